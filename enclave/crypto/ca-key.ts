// The cluster CA signing key: a P-256 key derived from the 32-byte `ca-root` internal key, so every
// node holding the master secret holds the same CA key without it ever being stored or sent.
//
// Why P-256: every TLS stack and X.509 verifier supports it, its ~128-bit security matches the
// 256-bit seed, and signatures are small. P-384 buys nothing a 256-bit seed can back.
//
// Seed → scalar: HKDF-SHA256 expands the seed to 48 bytes (384 bits) which are reduced as
// d = (int mod (n − 1)) + 1, the "extra random bits" method of FIPS 186-5 A.2.1. The result is
// always in 1..n−1 (never zero, never ≥ n) and its bias from uniform is below 2^-128 because 128
// more bits than the order's size are reduced. No loop, so no data-dependent iteration count.
import { p256 } from "@noble/curves/nist.js";
import { bytesToHex, hexToBytes } from "./bytes.js";
import { hkdfSha256 } from "./kdf.js";

export const CA_ROOT_SEED_LENGTH = 32;
const SCALAR_SALT = "nova-kms:ca-key:v1";
const SCALAR_INFO = "p256-scalar";
const EXPANDED_LENGTH = 48;

export interface CaSigningKey {
  /** 32-byte big-endian scalar; stays inside the CA module. */
  readonly secretKey: Uint8Array;
  /** Uncompressed SEC1 point (0x04 ‖ x ‖ y), the form put in the certificate. */
  readonly publicKey: Uint8Array;
}

export function deriveCaSigningKey(seed: Uint8Array): CaSigningKey {
  if (!(seed instanceof Uint8Array) || seed.length !== CA_ROOT_SEED_LENGTH) {
    throw new TypeError(`CA seed must be ${CA_ROOT_SEED_LENGTH} bytes`);
  }
  const d = reduceToScalar(hkdfSha256(seed, SCALAR_SALT, SCALAR_INFO, EXPANDED_LENGTH));
  const secretKey = hexToBytes(d.toString(16).padStart(64, "0"));
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) };
}

/** Maps 48 uniformly random bytes to a P-256 scalar in 1..n−1 (FIPS 186-5 A.2.1). */
export function reduceToScalar(wide: Uint8Array): bigint {
  if (wide.length !== EXPANDED_LENGTH) throw new RangeError(`expected ${EXPANDED_LENGTH} bytes`);
  return (BigInt(`0x${bytesToHex(wide)}`) % (p256.Point.Fn.ORDER - 1n)) + 1n;
}
