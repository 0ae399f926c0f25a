// Which key and version an `nkms1:` ciphertext names (PROTOCOL.md §12: format byte, key name,
// version, nonce, sealed data). The SDK reads only this public header, never the sealed part: it
// lets a reply be checked against the request — an encrypt answer must name the key we asked for
// and the version it reports, a decrypt answer the key and version of the ciphertext we sent.
// Layout (enclave/keys/ciphertext.ts, whose encoder the unit tests compare with this reader):
//   "nkms1:" ‖ base64url-no-padding( 0x01 ‖ nameLength u8 ‖ name ‖ version u32 BE ‖ nonce 12 ‖ ct ‖ tag 16 )

export const CIPHERTEXT_PREFIX = "nkms1:";
const FORMAT_V1 = 0x01;
const NONCE_AND_TAG_BYTES = 12 + 16;
const KEY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface CiphertextHeader {
  keyName: string;
  version: number;
}

/** The header of a well-formed v1 ciphertext, or undefined for anything else (never throws). */
export function readCiphertextHeader(ciphertext: string): CiphertextHeader | undefined {
  if (!ciphertext.startsWith(CIPHERTEXT_PREFIX)) return undefined;
  const body = ciphertext.slice(CIPHERTEXT_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const bytes = Buffer.from(body, "base64url");
  if (bytes[0] !== FORMAT_V1 || bytes.length < 2) return undefined;
  const nameLength = bytes[1]!;
  if (bytes.length < 2 + nameLength + 4 + NONCE_AND_TAG_BYTES) return undefined;
  const keyName = bytes.subarray(2, 2 + nameLength).toString("latin1");
  const version = bytes.readUInt32BE(2 + nameLength);
  if (!KEY_NAME.test(keyName) || version < 1) return undefined;
  return { keyName, version };
}
