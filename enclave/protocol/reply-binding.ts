// What ties an answer to the one request it answers (README "API": reply binding). The response
// signature covers the request's PoP signature but not the body, and every body a node seals to an
// app opens with the same key pair — so without this an on-path party could hand one request the
// sealed body of another (two concurrent derives, swapped). So the node adds the request's PoP
// signature, exactly as received, to the sealed JSON of every 2xx under `request_signature`, and the
// caller compares it with the signature it sent. Nothing to compute: the string is already at hand
// on both ends. Other clients ignore the extra field.

export const REQUEST_SIGNATURE_FIELD = "request_signature";

/** A reply payload with the request's PoP signature added, as the node seals it. */
export function bindToRequest(payload: Record<string, unknown>, requestSignature: string): Record<string, unknown> {
  return { ...payload, [REQUEST_SIGNATURE_FIELD]: requestSignature };
}

/** How an opened reply's echo compares with the request we sent. */
export type EchoVerdict = "bound" | "absent" | "other_request";

/**
 * Compares the echo in an opened reply with `requestSignature` and removes it, so callers see the
 * route's payload only. A reply that is not a JSON object has no echo ("absent").
 */
export function takeRequestEcho(reply: unknown, requestSignature: string): EchoVerdict {
  if (reply === null || typeof reply !== "object" || Array.isArray(reply)) return "absent";
  const fields = reply as Record<string, unknown>;
  if (!Object.hasOwn(fields, REQUEST_SIGNATURE_FIELD)) return "absent";
  const echoed = fields[REQUEST_SIGNATURE_FIELD];
  delete fields[REQUEST_SIGNATURE_FIELD];
  return echoed === requestSignature ? "bound" : "other_request";
}
