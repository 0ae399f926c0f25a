// The `nkms1:` ciphertext of a named key (PROTOCOL.md §12): self-describing, so any node can tell
// which key and version opened it, and bound by the GCM AAD to the app, the key, the version and the
// caller's own AAD — a ciphertext moved to another app, key or version, or carrying a changed byte,
// does not decrypt.
//
//   "nkms1:" ‖ base64url-no-padding( format 0x01 ‖ nameLength u8 ‖ name (ASCII) ‖ version u32 BE
//                                    ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16) )
//   AAD = "nkms1" ‖ u32 BE length-prefixed: app id (decimal), key name, version (u32 BE), caller AAD
// Length prefixes make the AAD unambiguous: no two (app, key, version, aad) tuples share one.
import { GCM_NONCE_BYTES, GCM_TAG_BYTES } from "../crypto/aead.js";
import { KEY_NAME_PATTERN } from "./key-names.js";

export const CIPHERTEXT_PREFIX = "nkms1:";
const FORMAT_V1 = 0x01;
const MAX_VERSION = 0xffff_ffff;

export interface CiphertextParts {
  keyName: string;
  version: number;
  nonce: Uint8Array;
  /** AES-256-GCM ciphertext ‖ 16-byte tag. */
  sealed: Uint8Array;
}

/** Not an `nkms1:` ciphertext of a well-formed shape (→ 400); says what is wrong, never what it holds. */
export class CiphertextFormatError extends Error {
  override name = "CiphertextFormatError";
}

export function encodeCiphertext(parts: CiphertextParts): string {
  checkName(parts.keyName);
  checkVersion(parts.version);
  if (parts.nonce.length !== GCM_NONCE_BYTES) throw new CiphertextFormatError("nonce must be 12 bytes");
  if (parts.sealed.length < GCM_TAG_BYTES) throw new CiphertextFormatError("sealed data shorter than the tag");
  // One buffer for the whole record; the name is ASCII by its pattern, so latin1 is its UTF-8.
  const nameLength = parts.keyName.length;
  const out = Buffer.allocUnsafe(2 + nameLength + 4 + GCM_NONCE_BYTES + parts.sealed.length);
  out[0] = FORMAT_V1;
  out[1] = nameLength;
  out.write(parts.keyName, 2, "latin1");
  const at = out.writeUInt32BE(parts.version, 2 + nameLength);
  out.set(parts.nonce, at);
  out.set(parts.sealed, at + GCM_NONCE_BYTES);
  return CIPHERTEXT_PREFIX + out.toString("base64url");
}

export function decodeCiphertext(text: unknown): CiphertextParts {
  if (typeof text !== "string" || !text.startsWith(CIPHERTEXT_PREFIX)) {
    throw new CiphertextFormatError(`ciphertext must be a string starting with ${CIPHERTEXT_PREFIX}`);
  }
  const body = text.slice(CIPHERTEXT_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new CiphertextFormatError("ciphertext is not base64url");
  const bytes = new Uint8Array(Buffer.from(body, "base64url"));
  // Canonical form only: re-encoding must give the same text (no padding, no stray bits).
  if (Buffer.from(bytes).toString("base64url") !== body) throw new CiphertextFormatError("ciphertext is not canonical");
  if (bytes[0] !== FORMAT_V1) throw new CiphertextFormatError("unknown ciphertext format");
  const nameLength = bytes[1] ?? 0;
  const fixed = 2 + nameLength + 4 + GCM_NONCE_BYTES + GCM_TAG_BYTES;
  if (bytes.length < fixed) throw new CiphertextFormatError("ciphertext is truncated");
  const keyName = Buffer.from(bytes.subarray(2, 2 + nameLength)).toString("latin1");
  checkName(keyName);
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(2 + nameLength);
  checkVersion(version);
  const nonceStart = 2 + nameLength + 4;
  return {
    keyName,
    version,
    nonce: bytes.slice(nonceStart, nonceStart + GCM_NONCE_BYTES),
    sealed: bytes.slice(nonceStart + GCM_NONCE_BYTES),
  };
}

/**
 * The GCM additional data of a ciphertext (see the layout above), built in one allocation: it is
 * made on every encrypt and decrypt. App ids (decimal) and key names are ASCII, so their UTF-8 is
 * their latin1.
 */
export function ciphertextAad(appId: bigint, keyName: string, version: number, callerAad: Uint8Array): Uint8Array {
  const app = appId.toString();
  const out = Buffer.allocUnsafe(AAD_LABEL.length + 16 + app.length + keyName.length + 4 + callerAad.length);
  let at = out.write(AAD_LABEL, 0, "latin1");
  at = out.writeUInt32BE(app.length, at);
  at += out.write(app, at, "latin1");
  at = out.writeUInt32BE(keyName.length, at);
  at += out.write(keyName, at, "latin1");
  at = out.writeUInt32BE(4, at);
  at = out.writeUInt32BE(version, at);
  at = out.writeUInt32BE(callerAad.length, at);
  out.set(callerAad, at);
  return out;
}

const AAD_LABEL = "nkms1";

function checkName(name: string): void {
  if (!KEY_NAME_PATTERN.test(name)) throw new CiphertextFormatError("key name in ciphertext is not valid");
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new CiphertextFormatError("version in ciphertext is not valid");
  }
}
