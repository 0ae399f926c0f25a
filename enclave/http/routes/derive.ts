// POST /kms/derive (PROTOCOL.md §8, §9): a key for the caller's own app, derived from the
// master secret. The app id comes from the registry, never from the request. The body schema is
// strict (an unknown field is a 400), so a sealed body meant for another route is refused here.
import { Hono } from "hono";
import { z } from "zod";
import { bytesToBase64 } from "../../crypto/bytes.js";
import { DEFAULT_DERIVE_LENGTH, MAX_DERIVE_LENGTH } from "../../crypto/kdf.js";
import { OPERATIONS } from "../../protocol/operations.js";
import { replyToApp } from "../app-reply.js";
import type { KmsEnv } from "../context.js";
import { appIdJson, parseBody } from "../validate.js";

// Existing clients send `length` as a JSON number or as a decimal string ("32"), which the reference
// node accepts (PROTOCOL.md §9); anything else — a fraction, a sign, blanks, a boolean — is refused.
const deriveLength = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^[0-9]{1,7}$/, "must be a decimal integer")
      .transform(Number),
  ])
  .pipe(z.number().int("must be an integer").min(1).max(MAX_DERIVE_LENGTH));

// Exactly what clients send: the runtime `{path, context, length}`, the reference demo `{path}` or
// `{path, length, context?}`, our SDK the same plus `op`.
const deriveRequest = z
  .object({
    path: z.string().min(1, "must be a non-empty string").max(1024),
    context: z.string().max(4096).optional(),
    length: deriveLength.default(DEFAULT_DERIVE_LENGTH),
    op: z.literal(OPERATIONS.derive).optional(),
  })
  .strict();

export function deriveRoutes() {
  return new Hono<KmsEnv>().post("/derive", async (c) => {
    const request = parseBody(deriveRequest, c.get("body"));
    const appId = c.get("caller").appId;
    const key = c.get("keys").appKey(appId, request.path, request.context, request.length);
    return replyToApp(c, {
      app_id: appIdJson(appId),
      path: request.path,
      key: bytesToBase64(key),
      length: request.length,
    });
  });
}
