// How a `/kms/*` handler answers: through the channel the app-channel middleware opened, to the
// caller's registered key, under the label of its request, signed over its PoP signature.
import type { Context } from "hono";
import { APP_CHANNEL } from "../protocol/channel.js";
import type { KmsEnv } from "./context.js";

/** @example return replyToApp(c, { app_id, path, key, length }) */
export function replyToApp(
  c: Context<KmsEnv>,
  payload: Record<string, unknown>,
  status: 200 | 201 = 200,
): Promise<Response> {
  const to = { publicKey: c.get("caller").teePublicKey, label: c.get("label"), popSignature: c.get("pop")?.signature };
  return c.get("channel").reply(c, to, payload, APP_CHANNEL, status);
}
