// Secrets over HTTP (PROTOCOL.md §12): versioned values in the caller's own namespace; another
// app's secret is indistinguishable from an absent one (404). `DELETE` takes no body from other
// clients; our SDK seals `{op}` into one, and a body, when present, must be exactly that.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { bytesToBase64 } from "../../crypto/bytes.js";
import type { SecretApi } from "../../keys/api.js";
import { OPERATIONS } from "../../protocol/operations.js";
import { proveMisses, replyToApp } from "../app-reply.js";
import type { KmsEnv } from "../context.js";
import { keyCall } from "../key-errors.js";
import { base64Bytes, parseBody, versionNumber } from "../validate.js";
import { decodePageToken, nextPageField, pageSizeOf } from "./paging.js";

const putRequest = z
  .object({
    value: base64Bytes,
    op: z.literal(OPERATIONS.secretsPut).optional(),
  })
  .strict();
const deleteRequest = z.object({ op: z.literal(OPERATIONS.secretsDelete).optional() }).strict();

export interface SecretRouteDeps {
  secrets: () => SecretApi;
}

export function secretRoutes({ secrets }: SecretRouteDeps) {
  const app = (c: Context<KmsEnv>) => c.get("caller").appId;
  return new Hono<KmsEnv>()
    .use(
      "/secrets/:name",
      proveMisses(OPERATIONS.secretsLookup, (c) => c.req.param("name")),
    )
    .put("/secrets/:name", async (c) => {
      const r = parseBody(putRequest, c.get("body"));
      const stored = await keyCall(() => secrets().put(app(c), c.req.param("name"), r.value));
      return replyToApp(c, { name: stored.name, version: stored.version });
    })
    .get("/secrets/:name", async (c) => {
      const version = versionNumber(c.req.query("version"), "version");
      const found = await keyCall(() => secrets().get(app(c), c.req.param("name"), version));
      return replyToApp(c, { name: found.name, version: found.version, value: bytesToBase64(found.value) });
    })
    .get("/secrets", async (c) => {
      const pageSize = pageSizeOf(c.req.query("page_size"));
      const after = decodePageToken(c.req.query("page_token"));
      const page = await keyCall(() => secrets().list(app(c), pageSize, after));
      return replyToApp(c, {
        secrets: page.items.map((s) => ({
          name: s.name,
          latest_version: s.latestVersion,
          updated_at_ms: s.updatedAtMs,
        })),
        ...nextPageField(page.nextAfter),
      });
    })
    .delete("/secrets/:name", async (c) => {
      if (c.get("body") !== undefined) parseBody(deleteRequest, c.get("body"));
      const deleted = await keyCall(() => secrets().delete(app(c), c.req.param("name")));
      return replyToApp(c, { name: deleted.name, deleted: true });
    });
}
