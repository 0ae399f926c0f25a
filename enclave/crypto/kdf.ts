// Key derivation from the cluster master secret (PROTOCOL.md §8).
// Two disjoint domains: app keys (salt "nova-kms:app:<id>", reachable through /kms/derive) and
// internal keys (salt "nova-kms:internal:v1"), which no app request can name because the app
// salt always carries the "nova-kms:app:" prefix.
import { createHmac } from "node:crypto";

export const MAX_DERIVE_LENGTH = 1024;
/** Key length of a /kms/derive request that names none (PROTOCOL.md §9). */
export const DEFAULT_DERIVE_LENGTH = 32;
const INTERNAL_SALT = "nova-kms:internal:v1";

const HASH_BYTES = 32;
const MAX_HKDF_OUTPUT = 255 * HASH_BYTES;

/**
 * HKDF-SHA256 (RFC 5869) on node:crypto HMAC: two native HMACs per 32-byte block, measured
 * ~2.3x faster than a pure-JS HKDF here (bench/crypto.ts), which matters because the envelope
 * derives a key on every request. Strings are taken as UTF-8.
 */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | string,
  info: Uint8Array | string,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > MAX_HKDF_OUTPUT) {
    throw new Error(`HKDF length must be an integer in 1..${MAX_HKDF_OUTPUT}`);
  }
  // RFC 5869: an absent salt is HashLen zero bytes; HMAC pads a short key with zeros anyway.
  const prk = createHmac("sha256", salt).update(ikm).digest();
  const out = new Uint8Array(length);
  let previous: Buffer = Buffer.alloc(0);
  for (let block = 1, offset = 0; offset < length; block++) {
    previous = createHmac("sha256", prk).update(previous).update(info).update(Uint8Array.of(block)).digest();
    out.set(previous.subarray(0, Math.min(HASH_BYTES, length - offset)), offset);
    offset += HASH_BYTES;
  }
  return out;
}

/** The info string of an app derivation: `<path>` or `<path>:<context>` when a context is given. */
export function appKeyInfo(path: string, context?: string): string {
  return context ? `${path}:${context}` : path;
}

/** App key, identical to the existing Nova KMS so apps keep their keys on migration. */
export function deriveAppKey(
  masterSecret: Uint8Array,
  appId: bigint | string,
  path: string,
  context = "",
  length = 32,
): Uint8Array {
  if (path.length === 0) throw new Error("path must be non-empty");
  if (!Number.isInteger(length) || length < 1 || length > MAX_DERIVE_LENGTH) {
    throw new Error(`length must be an integer in 1..${MAX_DERIVE_LENGTH}`);
  }
  return hkdfSha256(masterSecret, `nova-kms:app:${appId.toString()}`, appKeyInfo(path, context), length);
}

/** Purposes of internal keys; each has its own info label in the internal domain. */
export type InternalKeyPurpose =
  | { kind: "kv-data"; appId: bigint | string }
  | { kind: "sync-mac" }
  | { kind: "ca-root" }
  | { kind: "key-wrap"; appId: bigint | string; keyName: string };

function internalInfo(purpose: InternalKeyPurpose): string {
  switch (purpose.kind) {
    case "kv-data":
      return `kv-data:${purpose.appId.toString()}`;
    case "sync-mac":
      return "sync-mac";
    case "ca-root":
      return "ca-root";
    case "key-wrap":
      // Key names match [A-Za-z0-9_.-]{1,128}: no ":" can make two (app, name) pairs collide.
      return `key-wrap:${purpose.appId.toString()}:${purpose.keyName}`;
  }
}

/** 32-byte key for node-internal use (KV data key per app, sync MAC key, CA root seed, key wrapping). */
export function deriveInternalKey(masterSecret: Uint8Array, purpose: InternalKeyPurpose): Uint8Array {
  return hkdfSha256(masterSecret, INTERNAL_SALT, internalInfo(purpose), 32);
}
