import { p256 } from "@noble/curves/nist.js";
import fc from "fast-check";
import { hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import { deriveCaSigningKey, reduceToScalar } from "../../../enclave/crypto/ca-key.js";

const N = p256.Point.Fn.ORDER;
const SEED = hexToBytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

function bigEndian(value: bigint, length: number): Uint8Array {
  return hexToBytes(value.toString(16).padStart(length * 2, "0"));
}

describe("deriveCaSigningKey", () => {
  it("follows the documented construction (independent re-computation with node:crypto HKDF)", () => {
    const wide = new Uint8Array(hkdfSync("sha256", SEED, "nova-kms:ca-key:v1", "p256-scalar", 48));
    const expected = (BigInt(`0x${Buffer.from(wide).toString("hex")}`) % (N - 1n)) + 1n;
    const key = deriveCaSigningKey(SEED);
    expect(bytesToHex(key.secretKey)).toBe(expected.toString(16).padStart(64, "0"));
    expect(bytesToHex(key.publicKey)).toBe(bytesToHex(p256.getPublicKey(key.secretKey, false)));
    expect(key.publicKey).toHaveLength(65);
    expect(key.publicKey[0]).toBe(0x04);
  });

  it("is deterministic and seed-dependent (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (a, b) => {
          const ka = deriveCaSigningKey(a);
          expect(bytesToHex(deriveCaSigningKey(a.slice()).secretKey)).toBe(bytesToHex(ka.secretKey));
          expect(p256.utils.isValidSecretKey(ka.secretKey)).toBe(true);
          if (bytesToHex(a) !== bytesToHex(b))
            expect(bytesToHex(deriveCaSigningKey(b).secretKey)).not.toBe(bytesToHex(ka.secretKey));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rejects seeds that are not exactly 32 bytes", () => {
    for (const n of [0, 16, 31, 33, 64]) expect(() => deriveCaSigningKey(new Uint8Array(n))).toThrow(/32 bytes/);
    expect(() => deriveCaSigningKey("00".repeat(32) as unknown as Uint8Array)).toThrow(/32 bytes/);
  });
});

describe("reduceToScalar", () => {
  it("maps the extremes into 1..n-1, never 0 or n", () => {
    expect(reduceToScalar(new Uint8Array(48))).toBe(1n);
    expect(reduceToScalar(bigEndian(N - 2n, 48))).toBe(N - 1n);
    expect(reduceToScalar(bigEndian(N - 1n, 48))).toBe(1n);
    expect(reduceToScalar(bigEndian(N, 48))).toBe(2n);
    const top = reduceToScalar(new Uint8Array(48).fill(0xff));
    expect(top >= 1n && top <= N - 1n).toBe(true);
  });

  it("always lands in 1..n-1 (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (wide) => {
        const d = reduceToScalar(wide);
        expect(d >= 1n && d < N).toBe(true);
      }),
    );
  });

  it("refuses inputs that are not 48 bytes (too few bits would bias the key)", () => {
    expect(() => reduceToScalar(new Uint8Array(32))).toThrow(RangeError);
  });
});
