// How a `/kms/*` handler answers: through the channel the app-channel middleware opened, to the
// caller's registered key, under the label of its request, signed over its PoP signature — and, for
// a KV miss, the protocol's plaintext 404 with the node's proof that the key is absent.
import type { Context, MiddlewareHandler } from "hono";
import { KmsError } from "../errors.js";
import { APP_CHANNEL } from "../protocol/channel.js";
import type { LookupOperation } from "../protocol/operations.js";
import { NOT_FOUND_SIGNATURE_HEADER } from "../protocol/reply-binding.js";
import type { KmsEnv } from "./context.js";
import { errorResponse } from "./middleware/errors.js";

/** @example return replyToApp(c, { app_id, path, key, length }) */
export function replyToApp(
  c: Context<KmsEnv>,
  payload: Record<string, unknown>,
  status: 200 | 201 = 200,
): Promise<Response> {
  const to = { publicKey: c.get("caller").teePublicKey, label: c.get("label"), popSignature: c.get("pop")?.signature };
  return c.get("channel").reply(c, to, payload, APP_CHANNEL, status);
}

/**
 * 404 "Key not found" as every client reads it (plaintext `{code, message}`; existing clients take
 * any 404 as absent), plus `x-kms-not-found-signature` so our SDK can tell it from a forged one
 * (protocol/reply-binding.ts). Costs one signature, on misses only.
 * @example if (!found) return replyNotFound(c, OPERATIONS.kvGet, key)
 */
export async function replyNotFound(c: Context<KmsEnv>, operation: LookupOperation, key: string): Promise<Response> {
  const pop = c.get("pop");
  if (pop) c.header(NOT_FOUND_SIGNATURE_HEADER, await c.get("channel").signNotFound(pop.signature, operation, key));
  c.set("errorReason", "not_found");
  return errorResponse(c, 404, "not_found", "Key not found");
}

/**
 * The same proof for the named-key and secret routes (PROTOCOL.md §12), whose misses are thrown as
 * `not_found` errors deep in the engine: after the route, a 404 it threw gets the node's signature
 * over the request and `subject` (the key or secret name in the path). Other 404s (no such route)
 * stay unsigned.
 * @example keys.use("/keys/:name/*", proveMisses(OPERATIONS.keysLookup, (c) => c.req.param("name")))
 */
export function proveMisses(
  operation: LookupOperation,
  subjectOf: (c: Context<KmsEnv>) => string | undefined,
): MiddlewareHandler<KmsEnv> {
  return async (c, next) => {
    await next();
    const pop = c.get("pop");
    const subject = subjectOf(c);
    const thrownMiss = c.error instanceof KmsError && c.error.code === "not_found";
    if (c.res.status !== 404 || !thrownMiss || !pop || subject === undefined) return;
    const signature = await c.get("channel").signNotFound(pop.signature, operation, subject);
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(NOT_FOUND_SIGNATURE_HEADER, signature);
  };
}
