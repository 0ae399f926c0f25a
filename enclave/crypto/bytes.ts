// Byte encodings used across the protocol. Inputs from the wire are validated here so that
// every caller gets the same strictness (even length, hex digits only, optional 0x).

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Parses hex with or without a `0x` prefix; throws on odd length or non-hex characters. */
export function hexToBytes(hex: string): Uint8Array {
  const body = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0) throw new Error("hex string has odd length");
  if (!HEX_RE.test(body)) throw new Error("hex string has non-hex characters");
  return new Uint8Array(Buffer.from(body, "hex"));
}

/** Lower-case hex without prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 only; Buffer alone would silently skip bad characters. */
export function base64ToBytes(b64: string): Uint8Array {
  if (!B64_RE.test(b64)) throw new Error("invalid base64");
  return new Uint8Array(Buffer.from(b64, "base64"));
}

export function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Byte-wise lexicographic comparison (negative, zero, positive). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
