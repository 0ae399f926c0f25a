// The symmetric and RSA-decrypt operations of a version (PROTOCOL.md §12): AES-256-GCM under an
// `encrypt` key into the `nkms1:` format, HMAC-SHA256 under a `mac` key, RSA-OAEP/SHA-256 decryption
// under a `decrypt-rsa` key. Pure: the caller picks the version and supplies the material.
import { constants, createHmac, privateDecrypt, timingSafeEqual } from "node:crypto";
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES } from "../crypto/aead.js";
import { hexToBytes } from "../crypto/bytes.js";
import { ciphertextAad, encodeCiphertext, type CiphertextParts } from "../protocol/named-key-ciphertext.js";
import { privateKeyObject } from "./material.js";

/** The largest plaintext `encrypt` takes (a data key, a secret, a sealed private key all fit). */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;

export interface VersionRef {
  appId: bigint;
  keyName: string;
  version: number;
}

/** The ciphertext did not open: wrong AAD, another app or key, or a changed byte (→ 400). */
export class DecryptFailedError extends Error {
  override name = "DecryptFailedError";
}

export function encryptUnder(
  ref: VersionRef,
  material: Uint8Array,
  plaintext: Uint8Array,
  callerAad: Uint8Array,
  nonce: Uint8Array,
): string {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new RangeError(`plaintext exceeds ${MAX_PLAINTEXT_BYTES} bytes`);
  if (nonce.length !== GCM_NONCE_BYTES) throw new RangeError("nonce must be 12 bytes");
  const aad = ciphertextAad(ref.appId, ref.keyName, ref.version, callerAad);
  const sealed = aesGcmEncrypt(material, nonce, plaintext, aad);
  return encodeCiphertext({ keyName: ref.keyName, version: ref.version, nonce, sealed });
}

/** Opens parts decoded from an `nkms1:` ciphertext with the material of the version they name. */
export function decryptUnder(
  appId: bigint,
  parts: CiphertextParts,
  material: Uint8Array,
  callerAad: Uint8Array,
): Uint8Array {
  const aad = ciphertextAad(appId, parts.keyName, parts.version, callerAad);
  try {
    return aesGcmDecrypt(material, parts.nonce, parts.sealed, aad);
  } catch {
    throw new DecryptFailedError("ciphertext does not decrypt (wrong aad, key or app, or altered)");
  }
}

export function macWith(material: Uint8Array, message: Uint8Array): string {
  return createHmac("sha256", material).update(message).digest("hex");
}

/** Constant-time comparison of a presented MAC (hex) with the expected one. */
export function verifyMacWith(material: Uint8Array, message: Uint8Array, macHex: string): boolean {
  let presented: Uint8Array;
  try {
    presented = hexToBytes(macHex);
  } catch {
    return false;
  }
  const expected = createHmac("sha256", material).update(message).digest();
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** RSA-OAEP (SHA-256, MGF1-SHA-256) decryption with a `decrypt-rsa` version (→ DecryptFailedError). */
export function decryptAsymmetric(material: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(
      privateDecrypt(
        {
          key: privateKeyObject("decrypt-rsa", material),
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: "sha256",
        },
        ciphertext,
      ),
    );
  } catch {
    throw new DecryptFailedError("ciphertext does not decrypt under this key version");
  }
}
