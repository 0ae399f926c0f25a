// Reads a response body up to a byte bound, for every outbound call a node or the SDK makes (peer
// /sync, the enclave runtime, KMS nodes). A body past the bound is abandoned at once — the stream
// is cancelled, so the socket is dropped rather than drained — instead of being buffered whole:
// whoever answers (a registered peer, a node, anything on the path) cannot make us hold more than
// the bound, however much it sends or however long it keeps sending.

/** The answer was longer than the caller is prepared to read. */
export class ResponseTooLargeError extends Error {
  override name = "ResponseTooLargeError";

  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

/**
 * The body as UTF-8 text (invalid sequences replaced, as `Response.text()` does), or
 * ResponseTooLargeError once more than `limit` bytes arrive — or at once when `contentLength` (the
 * response's Content-Length header, if any) already says so. `body` is a Node stream or a web
 * ReadableStream; leaving the loop early (the bound, a socket error) cancels it.
 */
export async function readBoundedText(
  body: AsyncIterable<Uint8Array> | null | undefined,
  limit: number,
  contentLength?: string | null | undefined,
): Promise<string> {
  if (!body) return "";
  const declared = contentLength ? Number(contentLength) : Number.NaN;
  if (declared > limit) {
    await cancel(body);
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of body) {
    received += chunk.byteLength;
    if (received > limit) throw new ResponseTooLargeError(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received).toString("utf8");
}

/** Drops an unread body: a Node stream is destroyed, a web stream cancelled (both end the socket's use). */
async function cancel(body: AsyncIterable<Uint8Array>): Promise<void> {
  const stream = body as { destroy?: () => void; cancel?: () => Promise<void> };
  if (typeof stream.destroy === "function") stream.destroy();
  else if (typeof stream.cancel === "function") await stream.cancel().catch(() => {});
}
