import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, concatBytes, hexToBytes } from "../../../enclave/crypto/bytes.js";
import {
  generateP384KeyPair,
  P384KeyError,
  p384PublicKeyFromPrivate,
  p384SharedX,
  p384SpkiFromSec1,
  parseP384PublicKey,
  sameP384PublicKey,
} from "../../../enclave/crypto/p384.js";

const env = vectors.odyn_envelope_v1;
const senderSpki = hexToBytes(env.sender_tee_pubkey_spki_der_hex);
const senderSec1 = hexToBytes(env.sender_public_key_sec1_hex);
const P384_P = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;

function spkiOf(curve: string): Uint8Array {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  return new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
}

describe("parseP384PublicKey", () => {
  it("accepts the vector SPKI and SEC1 forms and returns the same SEC1 point", () => {
    expect(bytesToHex(parseP384PublicKey(senderSpki))).toBe(env.sender_public_key_sec1_hex);
    expect(bytesToHex(parseP384PublicKey(senderSec1))).toBe(env.sender_public_key_sec1_hex);
    expect(sameP384PublicKey(senderSpki, senderSec1)).toBe(true);
    expect(sameP384PublicKey(senderSpki, hexToBytes(env.receiver_tee_pubkey_spki_der_hex))).toBe(false);
  });

  it("returns a copy, not a view of the input", () => {
    const copy = senderSec1.slice();
    const out = parseP384PublicKey(copy);
    copy[5] = (copy[5] ?? 0) ^ 1;
    expect(bytesToHex(out)).toBe(env.sender_public_key_sec1_hex);
  });

  it("round-trips SEC1 -> SPKI, and matches node:crypto's own SPKI encoding", () => {
    expect(bytesToHex(p384SpkiFromSec1(senderSec1))).toBe(env.sender_tee_pubkey_spki_der_hex);
    const nodeSpki = spkiOf("secp384r1");
    expect(nodeSpki).toHaveLength(120);
    expect(bytesToHex(p384SpkiFromSec1(parseP384PublicKey(nodeSpki)))).toBe(bytesToHex(nodeSpki));
  });

  it("rejects a P-256 SPKI naming the curve", () => {
    expect(() => parseP384PublicKey(spkiOf("prime256v1"))).toThrow(/unsupported curve P-256/);
  });

  it("rejects P-521 and secp256k1 SPKIs", () => {
    expect(() => parseP384PublicKey(spkiOf("secp521r1"))).toThrow(/unsupported curve P-521/);
    expect(() => parseP384PublicKey(spkiOf("secp256k1"))).toThrow(/unsupported curve secp256k1/);
  });

  it("rejects a non-EC SPKI (Ed25519)", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    const der = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
    expect(() => parseP384PublicKey(der)).toThrow(/not an EC public key/);
  });

  it("rejects an off-curve point in SEC1 and in SPKI", () => {
    const bad = senderSec1.slice();
    bad[96] = (bad[96] ?? 0) ^ 1;
    expect(() => parseP384PublicKey(bad)).toThrow(/not a point on the curve/);
    expect(() => parseP384PublicKey(concatBytes(senderSpki.subarray(0, 23), bad))).toThrow(/not a point on the curve/);
  });

  it("rejects coordinates outside the field and the all-zero point", () => {
    const big = hexToBytes(P384_P.toString(16).padStart(96, "0"));
    expect(() => parseP384PublicKey(concatBytes(Uint8Array.of(4), big, senderSec1.subarray(49)))).toThrow(P384KeyError);
    expect(() => parseP384PublicKey(concatBytes(Uint8Array.of(4), new Uint8Array(96)))).toThrow(P384KeyError);
  });

  it("rejects compressed points (SEC1 and SPKI)", () => {
    const x = senderSec1.subarray(1, 49);
    expect(() => parseP384PublicKey(concatBytes(Uint8Array.of(2), x))).toThrow(/compressed/);
    expect(() => parseP384PublicKey(concatBytes(Uint8Array.of(3), x))).toThrow(/compressed/);
    const compressedSpki = concatBytes(hexToBytes("3046301006072a8648ce3d020106052b8104002203320003"), x);
    expect(() => parseP384PublicKey(compressedSpki)).toThrow(/compressed/);
  });

  it("rejects wrong lengths and prefixes", () => {
    for (const bytes of [
      new Uint8Array(0),
      senderSec1.subarray(0, 96),
      concatBytes(senderSec1, Uint8Array.of(0)),
      senderSpki.subarray(0, 119),
      concatBytes(senderSpki, Uint8Array.of(0)),
      concatBytes(Uint8Array.of(5), senderSec1.subarray(1)),
    ]) {
      expect(() => parseP384PublicKey(bytes), `length ${bytes.length}`).toThrow(P384KeyError);
    }
  });

  it("never accepts random bytes of SEC1/SPKI length (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 96, maxLength: 96 }), fc.constantFrom(0, 23), (body, prefixLen) => {
        const sec1 = concatBytes(Uint8Array.of(4), body);
        const input = prefixLen ? concatBytes(senderSpki.subarray(0, 23), sec1) : sec1;
        // A random 96-byte string is on the curve with negligible probability.
        expect(() => parseP384PublicKey(input)).toThrow(P384KeyError);
      }),
      { numRuns: 200 },
    );
  });
});

describe("P-384 keys and ECDH", () => {
  it("derives the vector public key and shared x (both directions)", () => {
    const sp = hexToBytes(env.sender_private_key_hex);
    const rp = hexToBytes(env.receiver_private_key_hex);
    expect(bytesToHex(p384PublicKeyFromPrivate(sp))).toBe(env.sender_public_key_sec1_hex);
    const receiver = parseP384PublicKey(hexToBytes(env.receiver_tee_pubkey_spki_der_hex));
    expect(bytesToHex(p384PublicKeyFromPrivate(rp))).toBe(bytesToHex(receiver));
    expect(bytesToHex(p384SharedX(sp, receiver))).toBe(env.ecdh_shared_x_hex);
    expect(bytesToHex(p384SharedX(rp, senderSec1))).toBe(env.ecdh_shared_x_hex);
  });

  it("generates key pairs whose halves match and agree on ECDH", () => {
    const a = generateP384KeyPair();
    const b = generateP384KeyPair();
    expect(a.privateKey).toHaveLength(48);
    expect(a.publicKey).toHaveLength(97);
    expect(bytesToHex(p384PublicKeyFromPrivate(a.privateKey))).toBe(bytesToHex(a.publicKey));
    const x = p384SharedX(a.privateKey, b.publicKey);
    expect(x).toHaveLength(48);
    expect(bytesToHex(x)).toBe(bytesToHex(p384SharedX(b.privateKey, a.publicKey)));
  });

  it("rejects bad private keys and bad peer points", () => {
    expect(() => p384PublicKeyFromPrivate(new Uint8Array(47).fill(1))).toThrow(/48 bytes/);
    expect(() => p384PublicKeyFromPrivate(new Uint8Array(48))).toThrow(P384KeyError);
    expect(() => p384PublicKeyFromPrivate(new Uint8Array(48).fill(0xff))).toThrow(P384KeyError);
    const bad = senderSec1.slice();
    bad[50] = (bad[50] ?? 0) ^ 0x80;
    expect(() => p384SharedX(hexToBytes(env.receiver_private_key_hex), bad)).toThrow(/not a point on the curve/);
    expect(() => p384SharedX(hexToBytes(env.receiver_private_key_hex), senderSpki)).toThrow(P384KeyError);
  });
});
