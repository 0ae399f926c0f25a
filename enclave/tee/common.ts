// Rules both TEE implementations share, so simulation and enclave accept and refuse the same things.
import { TeeInputError } from "./tee.js";

export const ENVELOPE_NONCE_BYTES = 12;

/**
 * Odyn hands out 32 random bytes per call, so large requests cost many round trips; the node needs
 * tens of bytes (a master secret, nonces). The cap keeps a bug from turning into thousands of calls.
 */
export const MAX_RANDOM_BYTES = 4096;

export function checkRandomLength(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_RANDOM_BYTES) {
    throw new TeeInputError(`random byte count must be an integer in 0..${MAX_RANDOM_BYTES}`);
  }
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8 decode, or `makeError(message)`: Odyn carries envelope plaintexts as JSON strings. */
export function decodeUtf8(bytes: Uint8Array, makeError: (message: string) => Error): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw makeError("envelope plaintext must be valid UTF-8");
  }
}
