import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToBase64, bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import { deriveAppKey, deriveInternalKey, hkdfSha256 } from "../../../enclave/crypto/kdf.js";

const master = hexToBytes(vectors.master_secret_hex);

describe("deriveAppKey", () => {
  for (const v of vectors.derive) {
    it(`reproduces vector app ${v.app_id} ${v.info} (${v.length} bytes)`, () => {
      const key = deriveAppKey(master, BigInt(v.app_id), v.path, v.context, v.length);
      expect(bytesToHex(key)).toBe(v.key_hex);
      expect(bytesToBase64(key)).toBe(v.key_b64);
      expect(bytesToHex(hkdfSha256(master, v.salt, v.info, v.length))).toBe(v.key_hex);
    });
  }

  it("rejects empty path and lengths outside 1..1024", () => {
    expect(() => deriveAppKey(master, 1n, "")).toThrow();
    expect(() => deriveAppKey(master, 1n, "p", "", 0)).toThrow();
    expect(() => deriveAppKey(master, 1n, "p", "", 1025)).toThrow();
    expect(deriveAppKey(master, 1n, "p", "", 1024)).toHaveLength(1024);
  });
});

describe("deriveInternalKey", () => {
  it("is separate from every app key and per purpose", () => {
    const kv1 = deriveInternalKey(master, { kind: "kv-data", appId: 1n });
    const kv2 = deriveInternalKey(master, { kind: "kv-data", appId: 2n });
    const mac = deriveInternalKey(master, { kind: "sync-mac" });
    const ca = deriveInternalKey(master, { kind: "ca-root" });
    const all = new Set([kv1, kv2, mac, ca].map(bytesToHex));
    expect(all.size).toBe(4);
    // An app asking for the same info label in its own domain gets a different key.
    expect(bytesToHex(deriveAppKey(master, 1n, "kv-data:1"))).not.toBe(bytesToHex(kv1));
    expect(bytesToHex(deriveAppKey(master, 1n, "sync-mac"))).not.toBe(bytesToHex(mac));
  });
});
