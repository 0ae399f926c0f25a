// Encryption at rest of values: AES-256-GCM under the app's data key, random nonce stored in front of
// the ciphertext, AAD binding the ciphertext to (app id, key) so it cannot be replayed under another
// key or app. The AAD is length-prefixed so that no two (app, key) pairs share an encoding.
import { randomBytes } from "node:crypto";
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "../crypto/aead.js";
import { concatBytes, utf8 } from "../crypto/bytes.js";

const AAD_LABEL = utf8("nova-kms:kv:v1");

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function valueAad(appId: bigint, key: string): Uint8Array {
  const app = utf8(appId.toString(10));
  const k = utf8(key);
  return concatBytes(AAD_LABEL, u32be(app.length), app, u32be(k.length), k);
}

/** Smallest valid sealed value: nonce and tag around an empty plaintext. */
export const SEALED_OVERHEAD = GCM_NONCE_BYTES + GCM_TAG_BYTES;

export type NonceSource = (length: number) => Uint8Array;

export const defaultNonceSource: NonceSource = (n) => new Uint8Array(randomBytes(n));

export function sealValue(dataKey: Uint8Array, appId: bigint, key: string, plaintext: Uint8Array, nonces: NonceSource): Uint8Array {
  const nonce = nonces(GCM_NONCE_BYTES);
  const body = aesGcmEncrypt(dataKey, nonce, plaintext, valueAad(appId, key));
  const out = new Uint8Array(nonce.length + body.length);
  out.set(nonce, 0);
  out.set(body, nonce.length);
  return out;
}

/** Throws when the sealed bytes do not authenticate under this key, app and record key. */
export function openValue(dataKey: Uint8Array, appId: bigint, key: string, sealed: Uint8Array): Uint8Array {
  if (sealed.length < SEALED_OVERHEAD) throw new Error("sealed value too short");
  return aesGcmDecrypt(dataKey, sealed.subarray(0, GCM_NONCE_BYTES), sealed.subarray(GCM_NONCE_BYTES), valueAad(appId, key));
}
