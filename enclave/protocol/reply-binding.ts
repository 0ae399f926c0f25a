// What ties an answer to the one request it answers (README "API": reply binding). The response
// signature covers the request's PoP signature but not the body, and every body a node seals to an
// app opens with the same key pair — so without this an on-path party could hand one request the
// sealed body of another (two concurrent derives, swapped). Two bindings, one per kind of answer:
//   2xx  the node adds the request's PoP signature, exactly as received, to the sealed JSON under
//        `request_signature`; the caller compares it with the signature it sent. Nothing to compute:
//        the string is already at hand on both ends. Other clients ignore the extra field.
//   404  (KV miss) the body stays the protocol's plaintext `{code, message}` — existing clients read
//        it so, and treat any 404 as "absent" — and the node adds `x-kms-not-found-signature`:
//        its wallet's signature over `NovaKMS:NotFound:<request signature>:<wallet>:<op>:<key>`
//        (crypto/pop.ts). A 404 without a valid one proves nothing (our SDK: never "absent").
import { PopError, verifyAppNotFound } from "../crypto/pop.js";
import type { LookupOperation } from "./operations.js";

export const REQUEST_SIGNATURE_FIELD = "request_signature";
/**
 * The other direction: our SDK puts the request's PoP nonce into each sealed app body under this
 * field, and the node refuses a body whose nonce is not the request's — the PoP signature does not
 * cover the body, so otherwise an older sealed body of the same route could ride on a fresh PoP.
 * Absent for existing clients (then the route's strict schema and the single-use nonce are all).
 */
export const REQUEST_NONCE_FIELD = "request_nonce";

/** How a sealed request body's nonce compares with the request's PoP nonce. */
export type NonceVerdict = "bound" | "absent" | "other_request";

/** An app request body with the request's PoP nonce added, as our SDK seals it (objects only). */
export function bindBodyToNonce(body: unknown, popNonce: string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  return { ...body, [REQUEST_NONCE_FIELD]: popNonce };
}

/** Compares and removes the body's `request_nonce`, so routes see their own fields only. */
export function takeRequestNonce(body: unknown, popNonce: string | undefined): NonceVerdict {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "absent";
  const fields = body as Record<string, unknown>;
  if (!Object.hasOwn(fields, REQUEST_NONCE_FIELD)) return "absent";
  const carried = fields[REQUEST_NONCE_FIELD];
  delete fields[REQUEST_NONCE_FIELD];
  return popNonce !== undefined && carried === popNonce ? "bound" : "other_request";
}
export const NOT_FOUND_SIGNATURE_HEADER = "x-kms-not-found-signature";

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

/** What a proven 404 must answer: our request (its PoP signature), asked of which node, about which key. */
export interface NotFoundQuestion {
  requestSignature: string;
  nodeWallet: string;
  operation: LookupOperation;
  key: string;
}

/** Whether `notFoundSignature` (the header's value) is the node's proof that `question.key` is absent. */
export function provesNotFound(question: NotFoundQuestion, notFoundSignature: string | undefined): boolean {
  if (!notFoundSignature) return false;
  try {
    verifyAppNotFound({
      appSignature: question.requestSignature,
      nodeWallet: question.nodeWallet,
      operation: question.operation,
      key: question.key,
      notFoundSignature,
    });
    return true;
  } catch (e) {
    if (e instanceof PopError) return false;
    throw e;
  }
}
