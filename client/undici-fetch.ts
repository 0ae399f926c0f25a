// The SDK's default transport: undici's `request` on the shared keep-alive dispatcher, shaped as
// the small part of `fetch` the SDK uses. undici's `fetch` builds web streams for every body,
// which measured ~0.7 ms of extra client CPU per authenticated call (bench/README.md, --client sdk).
// Redirects are not followed (a KMS node never redirects; a 3xx surfaces as an error).
// The body is handed on unread: the caller reads it under its byte bound (signed-request.ts), so a
// node that answers without end is cut off there instead of being buffered here first.
import { request } from "undici";
import type { FetchLike } from "./signed-request.js";

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export const undiciFetch: FetchLike = async (url, init) => {
  const res = await request(url, {
    method: (init.method ?? "GET") as "GET",
    headers: init.headers as Record<string, string> | undefined,
    body: init.body as string | undefined,
    signal: init.signal ?? undefined,
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  if (NULL_BODY_STATUSES.has(res.statusCode)) {
    res.body.destroy();
    return new Response(null, { status: res.statusCode, headers });
  }
  return new Response(res.body, { status: res.statusCode, headers });
};
