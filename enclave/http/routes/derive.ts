// POST /kms/derive (PROTOCOL.md §8, §9): a key for the caller's own app, derived from the
// master secret. The app id comes from the registry, never from the request.
import { Hono } from "hono";
import { z } from "zod";
import { bytesToBase64 } from "../../crypto/bytes.js";
import { MAX_DERIVE_LENGTH } from "../../crypto/kdf.js";
import type { HttpDeps, KmsEnv } from "../context.js";
import { replySealed } from "../middleware/app-channel.js";
import { appIdJson, parseBody } from "../validate.js";

const deriveRequest = z.object({
  path: z.string().min(1, "must be a non-empty string").max(1024),
  context: z.string().max(4096).optional(),
  length: z.number().int().min(1).max(MAX_DERIVE_LENGTH).default(32),
});

export function deriveRoutes(deps: HttpDeps) {
  return new Hono<KmsEnv>().post("/derive", async (c) => {
    const request = parseBody(deriveRequest, c.get("body"));
    const appId = c.get("caller").appId;
    const key = c.get("keys").appKey(appId, request.path, request.context, request.length);
    return replySealed(c, deps, {
      app_id: appIdJson(appId),
      path: request.path,
      key: bytesToBase64(key),
      length: request.length,
    });
  });
}
