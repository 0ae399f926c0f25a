// Turns the decrypted inner JSON of each route (PROTOCOL.md §9) into the SDK's typed results.
// The payload already passed the signature, envelope and request-echo checks, so a shape problem
// here means a node speaking another protocol version: reported as ResponseShapeError, with the
// field named. Where a reply repeats what the request asked (derive: path and length; KV: the key),
// it must repeat it exactly — a second guard, beside the echo, against an answer to another request.
import type { DerivedPublicKeyAnswer } from "../enclave/crypto/derived-public-key.js";
import { asked, b64, type Fields, int, object, ResponseShapeError, str } from "./json-fields.js";

export { ResponseShapeError };

export interface DeriveResult {
  appId: bigint;
  path: string;
  key: Uint8Array;
  length: number;
}

export interface KvEntry {
  key: string;
  value: Uint8Array;
  updatedAtMs: number;
}

export interface KvPutResult {
  key: string;
  updatedAtMs: number;
  /** Keys the node deleted (least recently used first) to make room under the app's quota; usually empty. */
  evicted: string[];
}

export interface SignedCertificate {
  certificatePem: string;
  caCertificatePem: string;
}

// Ids above 2^53 travel as decimal strings (JSON numbers would lose digits).
function appId(o: Fields): bigint {
  const v = o.app_id;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  throw new ResponseShapeError("field app_id is not an app id");
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function pem(o: Fields, field: string): string {
  try {
    return strictUtf8.decode(b64(o, field));
  } catch (e) {
    if (e instanceof ResponseShapeError) throw e;
    throw new ResponseShapeError(`field ${field} is not UTF-8 PEM`);
  }
}

/** The derive reply to a request for `request.path` of `request.length` bytes (the node's default applied). */
export function deriveResult(payload: unknown, request: { path: string; length: number }): DeriveResult {
  const o = object(payload);
  const key = b64(o, "key");
  const length = asked("length", int(o, "length"), request.length);
  if (key.length !== length) throw new ResponseShapeError(`key is ${key.length} bytes, length says ${length}`);
  return { appId: appId(o), path: asked("path", str(o, "path"), request.path), key, length };
}

export function kvEntry(payload: unknown, key: string): KvEntry {
  const o = object(payload);
  return { key: asked("key", str(o, "key"), key), value: b64(o, "value"), updatedAtMs: int(o, "updated_at_ms") };
}

function strings(o: Fields, field: string): string[] {
  const v = o[field];
  if (!Array.isArray(v) || !v.every((k) => typeof k === "string"))
    throw new ResponseShapeError(`field ${field} is not a list of strings`);
  return v as string[];
}

export function kvPutResult(payload: unknown, key: string): KvPutResult {
  const o = object(payload);
  // The node sends `evicted` only when LRU eviction made room (README "API").
  const evicted = o.evicted === undefined ? [] : strings(o, "evicted");
  return { key: asked("key", str(o, "key"), key), updatedAtMs: int(o, "updated_at_ms"), evicted };
}

export function kvDeleted(payload: unknown, key: string): boolean {
  const o = object(payload);
  asked("key", str(o, "key"), key);
  if (o.deleted !== true) throw new ResponseShapeError("field deleted is not true");
  return true;
}

export function kvKeys(payload: unknown): string[] {
  return strings(object(payload), "keys");
}

export function signedCertificate(payload: unknown): SignedCertificate {
  const o = object(payload);
  return { certificatePem: pem(o, "certificate"), caCertificatePem: pem(o, "ca_certificate") };
}

/** The fields of a `GET /derived_public_key` answer, as strings (their meaning is checked by the caller). */
export function derivedPublicKeyAnswer(payload: unknown): DerivedPublicKeyAnswer {
  const o = object(payload);
  const fields = ["app_id", "path", "context", "public_key", "address", "node_wallet", "signature"] as const;
  const [app_id, path, context, public_key, address, node_wallet, signature] = fields.map((f) => str(o, f)) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { app_id, path, context, public_key, address, node_wallet, signature };
}
