// PEM armour (RFC 7468). Decoding is strict: exactly one block of the expected label, nothing
// but whitespace around it, standard base64 inside; anything else is the caller's error.
import { base64ToBytes, bytesToBase64 } from "./bytes.js";

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = bytesToBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const PEM_BLOCK_RE = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]*?)\r?\n?-----END ([A-Z0-9 ]+)-----$/;

/**
 * Returns the DER inside the single PEM block whose label is one of `labels`, or throws an Error
 * whose message is safe to show (it never echoes the input).
 */
export function decodePem(pem: string, labels: readonly string[]): Uint8Array {
  const match = PEM_BLOCK_RE.exec(pem.trim());
  if (!match) throw new Error(`expected one PEM block labelled ${labels[0] ?? "?"}`);
  const [, begin, body, end] = match;
  if (begin !== end || !labels.includes(begin ?? "")) {
    throw new Error(`expected one PEM block labelled ${labels[0] ?? "?"}`);
  }
  const der = base64ToBytes((body ?? "").replace(/[\r\n\t ]/g, ""));
  if (der.length === 0) throw new Error("empty PEM block");
  return der;
}
