import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import { EcdhSecretCache } from "../../../enclave/crypto/ecdh-cache.js";
import { generateP384KeyPair, P384KeyError, p384SharedX } from "../../../enclave/crypto/p384.js";

const v = vectors.odyn_envelope_v1;

describe("EcdhSecretCache", () => {
  it("returns the vector shared x and its own public key", () => {
    const cache = new EcdhSecretCache(hexToBytes(v.sender_private_key_hex));
    expect(bytesToHex(cache.publicKey)).toBe(v.sender_public_key_sec1_hex);
    const receiver = hexToBytes(v.receiver_tee_pubkey_spki_der_hex).subarray(23);
    expect(bytesToHex(cache.sharedX(receiver))).toBe(v.ecdh_shared_x_hex);
    expect(bytesToHex(cache.sharedX(receiver))).toBe(v.ecdh_shared_x_hex);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it("computes once per peer and agrees with uncached ECDH", () => {
    const me = generateP384KeyPair();
    const peers = [generateP384KeyPair(), generateP384KeyPair(), generateP384KeyPair()];
    const cache = new EcdhSecretCache(me.privateKey);
    for (let round = 0; round < 3; round++) {
      for (const peer of peers) {
        expect(bytesToHex(cache.sharedX(peer.publicKey))).toBe(bytesToHex(p384SharedX(peer.privateKey, me.publicKey)));
      }
    }
    expect(cache.stats).toEqual({ hits: 6, misses: 3, size: 3 });
  });

  it("is bounded: the least recently used peer is evicted", () => {
    const me = generateP384KeyPair();
    const [a, b, c] = [generateP384KeyPair(), generateP384KeyPair(), generateP384KeyPair()];
    const cache = new EcdhSecretCache(me.privateKey, 2);
    cache.sharedX(a.publicKey);
    cache.sharedX(b.publicKey);
    cache.sharedX(a.publicKey); // a is now most recent
    cache.sharedX(c.publicKey); // evicts b
    expect(cache.size).toBe(2);
    const before = cache.stats.misses;
    cache.sharedX(a.publicKey);
    expect(cache.stats.misses).toBe(before);
    cache.sharedX(b.publicKey);
    expect(cache.stats.misses).toBe(before + 1);
  });

  it("rejects invalid peers without caching them, and bad construction", () => {
    const cache = new EcdhSecretCache(generateP384KeyPair().privateKey);
    const bad = generateP384KeyPair().publicKey;
    bad[10] = (bad[10] ?? 0) ^ 1;
    expect(() => cache.sharedX(bad)).toThrow(P384KeyError);
    expect(cache.size).toBe(0);
    expect(() => new EcdhSecretCache(new Uint8Array(32))).toThrow(P384KeyError);
    expect(() => new EcdhSecretCache(generateP384KeyPair().privateKey, 0)).toThrow();
  });
});
