// The per-app KV store over HTTP (PROTOCOL.md §9). The namespace is always the caller's
// registered app id; the store encrypts values under that app's data key. Body schemas are strict
// (an unknown field is a 400), so a sealed PUT body re-sent as a DELETE is refused, not obeyed; a
// miss is a 404 the caller can verify (app-reply.ts replyNotFound).
import { Hono, type Context } from "hono";
import { z } from "zod";
import { base64ToBytes, bytesToBase64 } from "../../crypto/bytes.js";
import { badRequest } from "../../errors.js";
import { OPERATIONS } from "../../protocol/operations.js";
import type { KvLocalApi } from "../../store/api.js";
import { replyNotFound, replyToApp } from "../app-reply.js";
import type { KmsEnv } from "../context.js";
import type { NodeMetrics } from "../metrics.js";
import { storeCall } from "../store-errors.js";
import { appIdJson, formDecodeComponent, parseBody } from "../validate.js";

const keyField = z.string().min(1, "must be a non-empty string");
// Exactly what clients send: the runtime and the reference demo `{key, value, ttl_ms}` and `{key}`,
// our SDK the same plus `op`.
const putRequest = z
  .object({
    key: keyField,
    value: z.string(),
    ttl_ms: z.number().int().min(0).optional(),
    op: z.literal(OPERATIONS.kvPut).optional(),
  })
  .strict();
const deleteRequest = z.object({ key: keyField, op: z.literal(OPERATIONS.kvDelete).optional() }).strict();
const KEY_PATH_PREFIX = "/kms/data/";

function decodeValue(value: string): Uint8Array {
  try {
    return base64ToBytes(value);
  } catch {
    throw badRequest("Invalid value: must be standard base64");
  }
}

/** The key of `GET /kms/data/<key>`, form-decoded from the raw URL (hono's param keeps `+` as is). */
function keyInPath(url: string): string {
  const path = new URL(url).pathname;
  return formDecodeComponent(path.slice(path.indexOf(KEY_PATH_PREFIX) + KEY_PATH_PREFIX.length));
}

export interface KvRouteDeps {
  /** The KV store once it has caught up with the peers, or a 503. */
  store: () => KvLocalApi;
  metrics: Pick<NodeMetrics, "evictions">;
  /** Resolves once the write quorum holds this change-log position; 503 insufficient_replicas otherwise. */
  replicated: (position: number) => Promise<void>;
}

export function kvRoutes({ store, metrics, replicated }: KvRouteDeps) {
  const readOne = (c: Context<KmsEnv>, key: string | undefined) => {
    if (!key) throw badRequest("Invalid key: must be a non-empty string");
    const appId = c.get("caller").appId;
    const found = storeCall(() => store().get(appId, key));
    if (!found) return replyNotFound(c, OPERATIONS.kvGet, key);
    return replyToApp(c, {
      app_id: appIdJson(appId),
      key,
      value: bytesToBase64(found.value),
      updated_at_ms: found.updatedAtMs,
    });
  };

  return new Hono<KmsEnv>()
    .get("/data", async (c) => {
      const key = c.req.query("key");
      if (key !== undefined) return readOne(c, key);
      const appId = c.get("caller").appId;
      const keys = storeCall(() => store().keys(appId));
      return replyToApp(c, { app_id: appIdJson(appId), keys, count: keys.length });
    })
    .get("/data/:key{.+}", async (c) => readOne(c, keyInPath(c.req.url)))
    .put("/data", async (c) => {
      const request = parseBody(putRequest, c.get("body"));
      const appId = c.get("caller").appId;
      const value = decodeValue(request.value);
      const result = storeCall(() => store().put(appId, request.key, value, { ttlMs: request.ttl_ms ?? 0 }));
      if (result.evicted.length > 0) metrics.evictions.inc({ app: appId.toString() }, result.evicted.length);
      await replicated(result.position);
      return replyToApp(c, {
        app_id: appIdJson(appId),
        key: request.key,
        updated_at_ms: result.updatedAtMs,
        ...(result.evicted.length > 0 ? { evicted: result.evicted } : {}),
      });
    })
    .delete("/data", async (c) => {
      const request = parseBody(deleteRequest, c.get("body"));
      const appId = c.get("caller").appId;
      const { deleted, position } = storeCall(() => store().delete(appId, request.key));
      if (!deleted) return replyNotFound(c, OPERATIONS.kvDelete, request.key);
      await replicated(position);
      return replyToApp(c, { app_id: appIdJson(appId), key: request.key, deleted: true });
    });
}
