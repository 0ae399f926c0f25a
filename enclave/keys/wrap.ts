// Key material at rest (and between nodes) is wrapped: AES-256-GCM under a key-encryption key
// derived from the master secret per app and key (internal domain, `key-wrap:<appId>:<name>`),
// with the version in the AAD. A wrapped version therefore opens only for its own app, key and
// version, and only on a node holding the cluster's secret; the raw material is unwrapped for an
// operation and never stored or sent unwrapped.
//   wrapped = nonce (12) ‖ ciphertext ‖ tag (16)
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "../crypto/aead.js";
import { concatBytes } from "../crypto/bytes.js";
import { deriveInternalKey } from "../crypto/kdf.js";
import type { VersionRef } from "./symmetric.js";

/** A wrapped material that does not open for this app, key and version (corruption or misuse). */
export class UnwrapError extends Error {
  override name = "UnwrapError";
}

export function keyEncryptionKey(masterSecret: Uint8Array, appId: bigint, keyName: string): Uint8Array {
  return deriveInternalKey(masterSecret, { kind: "key-wrap", appId, keyName });
}

/** App id, key name (ASCII by its pattern) and version: latin1 is their UTF-8, without a TextEncoder. */
function wrapAad(ref: VersionRef): Uint8Array {
  return Buffer.from(`nkms-wrap:${ref.appId.toString()}:${ref.keyName}:${ref.version}`, "latin1");
}

export function wrapMaterial(kek: Uint8Array, ref: VersionRef, material: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (nonce.length !== GCM_NONCE_BYTES) throw new RangeError("nonce must be 12 bytes");
  return concatBytes(nonce, aesGcmEncrypt(kek, nonce, material, wrapAad(ref)));
}

export function unwrapMaterial(kek: Uint8Array, ref: VersionRef, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new UnwrapError("wrapped material is truncated");
  try {
    return aesGcmDecrypt(kek, wrapped.subarray(0, GCM_NONCE_BYTES), wrapped.subarray(GCM_NONCE_BYTES), wrapAad(ref));
  } catch {
    throw new UnwrapError("wrapped material does not open for this app, key and version");
  }
}
