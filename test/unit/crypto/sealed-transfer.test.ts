import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import {
  generateP384KeyPair,
  p384PublicKeyFromPrivate,
  p384SharedX,
  p384SpkiFromSec1,
  parseP384PublicKey,
} from "../../../enclave/crypto/p384.js";
import {
  masterSecretHash,
  openSealedMasterSecret,
  sealedTransferAesKey,
  SealedTransferError,
  sealMasterSecret,
} from "../../../enclave/crypto/sealed-transfer.js";

const v = vectors.sealed_master_secret;
const requesterPriv = hexToBytes(v.requester_private_key_hex);
const ephemeralPriv = hexToBytes(v.server_ephemeral_private_key_hex);
const secret = hexToBytes(v.plaintext_master_secret_hex);

describe("sealed master secret vector", () => {
  it("reproduces the AES key, the ciphertext and the wire object", () => {
    const requesterSec1 = parseP384PublicKey(hexToBytes(v.requester_ecdh_pubkey_spki_der_hex));
    expect(bytesToHex(p384SpkiFromSec1(p384PublicKeyFromPrivate(requesterPriv)))).toBe(
      v.requester_ecdh_pubkey_spki_der_hex,
    );
    expect(v.hkdf_salt).toBe("nova-kms:sealed-master-secret");
    expect(v.hkdf_info).toBe("aes-gcm-key");
    expect(bytesToHex(sealedTransferAesKey(p384SharedX(ephemeralPriv, requesterSec1)))).toBe(v.aes_key_hex);
    const sealed = sealMasterSecret({
      requesterEcdhPublicKey: hexToBytes(v.requester_ecdh_pubkey_spki_der_hex),
      masterSecret: secret,
      ephemeral: ephemeralPriv,
      nonce: hexToBytes(v.nonce_hex),
    });
    expect(sealed).toStrictEqual({
      ephemeral_pubkey: v.server_ephemeral_pubkey_spki_der_hex,
      encrypted_data: v.encrypted_data_hex,
      nonce: v.nonce_hex,
    });
    // The requester key may also be given as SEC1, and the ephemeral as a key pair.
    expect(
      sealMasterSecret({
        requesterEcdhPublicKey: requesterSec1,
        masterSecret: secret,
        ephemeral: { privateKey: ephemeralPriv },
        nonce: hexToBytes(v.nonce_hex),
      }),
    ).toStrictEqual(sealed);
  });

  it("the requester opens the vector", () => {
    const sealed = {
      ephemeral_pubkey: v.server_ephemeral_pubkey_spki_der_hex,
      encrypted_data: v.encrypted_data_hex,
      nonce: v.nonce_hex,
    };
    expect(bytesToHex(openSealedMasterSecret({ requesterPrivateKey: requesterPriv, sealed }))).toBe(
      v.plaintext_master_secret_hex,
    );
  });

  it("hashes the master secret with keccak256", () => {
    expect(masterSecretHash(hexToBytes(vectors.master_secret_hex))).toBe(`0x${vectors.master_secret_hash_keccak256}`);
    expect(() => masterSecretHash(new Uint8Array(31))).toThrow(SealedTransferError);
  });
});

describe("sealed transfer properties", () => {
  const requester = generateP384KeyPair();
  const other = generateP384KeyPair();

  it("round-trips any 32-byte secret with a fresh ephemeral key and nonce each time", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (s) => {
        const sealed = sealMasterSecret({
          requesterEcdhPublicKey: p384SpkiFromSec1(requester.publicKey),
          masterSecret: s,
        });
        expect(seen.has(sealed.ephemeral_pubkey)).toBe(false);
        seen.add(sealed.ephemeral_pubkey);
        expect(sealed.nonce).toHaveLength(24);
        expect(
          bytesToHex(
            openSealedMasterSecret({
              requesterPrivateKey: requester.privateKey,
              sealed: JSON.parse(JSON.stringify(sealed)),
            }),
          ),
        ).toBe(bytesToHex(s));
      }),
      { numRuns: 30 },
    );
  });

  it("fails with the wrong key or any altered byte", () => {
    const sealed = sealMasterSecret({ requesterEcdhPublicKey: requester.publicKey, masterSecret: secret });
    expect(() => openSealedMasterSecret({ requesterPrivateKey: other.privateKey, sealed })).toThrow(/does not decrypt/);
    fc.assert(
      fc.property(
        fc.constantFrom("encrypted_data" as const, "nonce" as const),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (field, pos, bit) => {
          const bytes = hexToBytes(sealed[field]);
          const i = pos % bytes.length;
          bytes[i] = (bytes[i] ?? 0) ^ (1 << bit);
          expect(() =>
            openSealedMasterSecret({
              requesterPrivateKey: requester.privateKey,
              sealed: { ...sealed, [field]: bytesToHex(bytes) },
            }),
          ).toThrow(SealedTransferError);
        },
      ),
      { numRuns: 100 },
    );
    // A different (valid) ephemeral key changes the ECDH secret.
    const swapped = { ...sealed, ephemeral_pubkey: bytesToHex(p384SpkiFromSec1(other.publicKey)) };
    expect(() => openSealedMasterSecret({ requesterPrivateKey: requester.privateKey, sealed: swapped })).toThrow(
      /does not decrypt/,
    );
  });

  it("rejects malformed sealed objects and inputs", () => {
    const sealed = sealMasterSecret({ requesterEcdhPublicKey: requester.publicKey, masterSecret: secret });
    for (const bad of [
      null,
      "x",
      [sealed],
      { ...sealed, nonce: undefined },
      { ...sealed, nonce: sealed.nonce.slice(2) },
      { ...sealed, encrypted_data: sealed.encrypted_data.slice(2) },
      { ...sealed, ephemeral_pubkey: `3059301306072a8648ce3d020106082a8648ce3d03010703420004${"11".repeat(64)}` },
      { ...sealed, ephemeral_pubkey: `${sealed.ephemeral_pubkey.slice(0, -2)}00` },
    ]) {
      expect(() => openSealedMasterSecret({ requesterPrivateKey: requester.privateKey, sealed: bad })).toThrow(
        SealedTransferError,
      );
    }
    expect(() =>
      sealMasterSecret({ requesterEcdhPublicKey: requester.publicKey, masterSecret: new Uint8Array(16) }),
    ).toThrow(SealedTransferError);
    expect(() => sealMasterSecret({ requesterEcdhPublicKey: new Uint8Array(97), masterSecret: secret })).toThrow(
      SealedTransferError,
    );
    expect(() =>
      sealMasterSecret({
        requesterEcdhPublicKey: requester.publicKey,
        masterSecret: secret,
        nonce: new Uint8Array(16),
      }),
    ).toThrow(SealedTransferError);
  });
});
