import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { deriveInternalKey } from "../../../enclave/crypto/kdf.js";
import { openValue, sealValue, valueAad, defaultNonceSource } from "../../../enclave/store/sealing.js";
import { MASTER, ManualClock, bytes, makeStore } from "./helpers.js";

describe("AAD binding of ciphertexts to (app, key)", () => {
  it("a ciphertext moved to another key or another app fails to decrypt on merge", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    a.put(1n, "alice", bytes("secret"));
    const rec = a.changesSince(0).records[0]!;
    const b = makeStore(1, clock);
    const moved = [
      { ...rec, key: "bob" },
      { ...rec, key: "alice " },
      { ...rec, app_id: "2" },
    ];
    expect(b.merge(moved).outcomes.map((o) => o.reason)).toEqual([
      "decrypt_failed",
      "decrypt_failed",
      "decrypt_failed",
    ]);
    expect(b.merge([rec]).counts.inserted).toBe(1);
  });

  it("the AAD encoding is unambiguous (length-prefixed)", () => {
    // "1" + "2x" and "12" + "x" would collide under naive concatenation.
    expect(Buffer.from(valueAad(1n, "2x")).equals(Buffer.from(valueAad(12n, "x")))).toBe(false);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.string({ minLength: 1 }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.string({ minLength: 1 }),
        (a1, k1, a2, k2) => {
          fc.pre(a1 !== a2 || k1 !== k2);
          fc.pre(Buffer.from(k1).toString() === k1 && Buffer.from(k2).toString() === k2);
          expect(Buffer.from(valueAad(a1, k1)).equals(Buffer.from(valueAad(a2, k2)))).toBe(false);
        },
      ),
    );
  });

  it("open succeeds only with the same app, key and data key", () => {
    const k1 = deriveInternalKey(MASTER, { kind: "kv-data", appId: 1n });
    const k2 = deriveInternalKey(MASTER, { kind: "kv-data", appId: 2n });
    const sealed = sealValue(k1, 1n, "key", bytes("v"), defaultNonceSource);
    expect(new TextDecoder().decode(openValue(k1, 1n, "key", sealed))).toBe("v");
    expect(() => openValue(k1, 1n, "key2", sealed)).toThrow();
    expect(() => openValue(k1, 2n, "key", sealed)).toThrow();
    expect(() => openValue(k2, 1n, "key", sealed)).toThrow();
    const flipped = sealed.slice(0, 20) + String.fromCharCode(sealed.charCodeAt(20) ^ 1) + sealed.slice(21);
    expect(() => openValue(k1, 1n, "key", flipped)).toThrow();
  });
});
