// HMAC-SHA256 for the sync body signature (PROTOCOL.md §10), compared in constant time.
import { createHmac, timingSafeEqual } from "node:crypto";

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** Constant-time check of a received MAC; a length mismatch is a plain mismatch. */
export function verifyHmacSha256(key: Uint8Array, data: Uint8Array, mac: Uint8Array): boolean {
  const expected = hmacSha256(key, data);
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}
