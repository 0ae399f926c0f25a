// Key derivation from the cluster master secret (PROTOCOL.md §8).
// Two disjoint domains: app keys (salt "nova-kms:app:<id>", reachable through /kms/derive) and
// internal keys (salt "nova-kms:internal:v1"), which no app request can name because the app
// salt always carries the "nova-kms:app:" prefix.
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "./bytes.js";

export const MAX_DERIVE_LENGTH = 1024;
const INTERNAL_SALT = "nova-kms:internal:v1";

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | string, info: Uint8Array | string, length: number): Uint8Array {
  const s = typeof salt === "string" ? utf8(salt) : salt;
  const i = typeof info === "string" ? utf8(info) : info;
  return hkdf(sha256, ikm, s, i, length);
}

/** The info string of an app derivation: `<path>` or `<path>:<context>` when a context is given. */
export function appKeyInfo(path: string, context?: string): string {
  return context ? `${path}:${context}` : path;
}

/** App key, identical to the existing Nova KMS so apps keep their keys on migration. */
export function deriveAppKey(masterSecret: Uint8Array, appId: bigint | string, path: string, context = "", length = 32): Uint8Array {
  if (path.length === 0) throw new Error("path must be non-empty");
  if (!Number.isInteger(length) || length < 1 || length > MAX_DERIVE_LENGTH) {
    throw new Error(`length must be an integer in 1..${MAX_DERIVE_LENGTH}`);
  }
  return hkdfSha256(masterSecret, `nova-kms:app:${appId.toString()}`, appKeyInfo(path, context), length);
}

/** Purposes of internal keys; each has its own info label in the internal domain. */
export type InternalKeyPurpose = { kind: "kv-data"; appId: bigint | string } | { kind: "sync-mac" } | { kind: "ca-root" };

function internalInfo(purpose: InternalKeyPurpose): string {
  switch (purpose.kind) {
    case "kv-data":
      return `kv-data:${purpose.appId.toString()}`;
    case "sync-mac":
      return "sync-mac";
    case "ca-root":
      return "ca-root";
  }
}

/** 32-byte key for node-internal use (KV data key per app, sync MAC key, CA root seed). */
export function deriveInternalKey(masterSecret: Uint8Array, purpose: InternalKeyPurpose): Uint8Array {
  return hkdfSha256(masterSecret, INTERNAL_SALT, internalInfo(purpose), 32);
}
