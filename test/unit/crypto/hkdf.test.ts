import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../../../enclave/crypto/bytes.js";
import { hkdfSha256 } from "../../../enclave/crypto/kdf.js";

const asBytes = (v: Uint8Array | string) => (typeof v === "string" ? utf8(v) : v);
/** An independent HKDF (noble's, pure JS) to check ours against. */
const referenceHkdf = (ikm: Uint8Array, salt: Uint8Array | string, info: Uint8Array | string, length: number) =>
  hkdf(sha256, ikm, asBytes(salt), asBytes(info), length);

describe("hkdfSha256", () => {
  it("matches RFC 5869 test case 1", () => {
    const okm = hkdfSha256(
      hexToBytes("0b".repeat(22)),
      hexToBytes("000102030405060708090a0b0c"),
      hexToBytes("f0f1f2f3f4f5f6f7f8f9"),
      42,
    );
    expect(bytesToHex(okm)).toBe(
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    );
  });

  it("matches RFC 5869 test case 3 (empty salt and info)", () => {
    const okm = hkdfSha256(hexToBytes("0b".repeat(22)), new Uint8Array(0), "", 42);
    expect(bytesToHex(okm)).toBe(
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    );
  });

  it("equals an independent HKDF implementation for any input (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 40 })),
        fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.string({ maxLength: 40 })),
        fc.integer({ min: 1, max: 1024 }),
        (ikm, salt, info, length) => {
          expect(bytesToHex(hkdfSha256(ikm, salt, info, length))).toBe(
            bytesToHex(referenceHkdf(ikm, salt, info, length)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects lengths outside 1..8160", () => {
    expect(() => hkdfSha256(new Uint8Array(1), "", "", 0)).toThrow();
    expect(() => hkdfSha256(new Uint8Array(1), "", "", 8161)).toThrow();
    expect(hkdfSha256(new Uint8Array(1), "", "", 8160)).toHaveLength(8160);
  });
});
