import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, hexToBytes, utf8 } from "../../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../../enclave/crypto/canonical-json.js";
import { EcdhSecretCache } from "../../../enclave/crypto/ecdh-cache.js";
import {
  CAPSULE_LABEL,
  DEFAULT_ENVELOPE_LABEL,
  ENCLAVER_LABEL,
  EnvelopeDecryptError,
  EnvelopeFormatError,
  envelopeAesKey,
  openEnvelope,
  parseEnvelope,
  sealEnvelope,
} from "../../../enclave/crypto/envelope.js";
import {
  generateP384KeyPair,
  p384PublicKeyFromPrivate,
  p384SharedX,
  parseP384PublicKey,
} from "../../../enclave/crypto/p384.js";

const v = vectors.odyn_envelope_v1;
const senderPriv = hexToBytes(v.sender_private_key_hex);
const receiverPriv = hexToBytes(v.receiver_private_key_hex);
const senderSec1 = hexToBytes(v.sender_public_key_sec1_hex);
const receiverSec1 = parseP384PublicKey(hexToBytes(v.receiver_tee_pubkey_spki_der_hex));
const nonce = hexToBytes(v.nonce_hex);
const sharedX = hexToBytes(v.ecdh_shared_x_hex);

// Two fixed key pairs for property tests: ECDH is ~1 ms, so properties vary the data, not the keys.
const alice = generateP384KeyPair();
const bob = generateP384KeyPair();
const mallory = generateP384KeyPair();
const aliceBobX = p384SharedX(alice.privateKey, bob.publicKey);

describe("Odyn envelope v1 vector", () => {
  it("reproduces shared x, AES key, ciphertext and the whole envelope", () => {
    expect(bytesToHex(p384SharedX(senderPriv, receiverSec1))).toBe(v.ecdh_shared_x_hex);
    expect(bytesToHex(envelopeAesKey(sharedX, senderSec1, receiverSec1, nonce, ENCLAVER_LABEL))).toBe(v.aes_key_hex);
    // The salt sorts the keys, so the key is the same whichever side computes it.
    expect(bytesToHex(envelopeAesKey(sharedX, receiverSec1, senderSec1, nonce, ENCLAVER_LABEL))).toBe(v.aes_key_hex);
    const envelope = sealEnvelope({
      sharedX,
      senderPublicKey: senderSec1,
      recipientPublicKey: receiverSec1,
      plaintext: v.plaintext,
      nonce,
      label: ENCLAVER_LABEL,
    });
    expect(envelope.encrypted_data).toBe(v.encrypted_data_hex);
    expect(envelope).toStrictEqual(v.envelope);
    expect(JSON.stringify(envelope)).toBe(JSON.stringify(v.envelope));
  });

  it("the plaintext is the canonical JSON of the request", () => {
    expect(canonicalJson(JSON.parse(v.plaintext))).toBe(v.plaintext);
    expect(canonicalJson({ path: "wallet/root", length: 32, context: "session-a" })).toBe(v.plaintext);
  });

  it("the receiver parses and opens the vector envelope (with 0x prefixes too)", () => {
    const parsed = parseEnvelope(v.envelope);
    expect(bytesToHex(parsed.senderPublicKey)).toBe(v.sender_public_key_sec1_hex);
    const cache = new EcdhSecretCache(receiverPriv);
    const opened = openEnvelope({
      sharedX: cache.sharedX(parsed.senderPublicKey),
      senderPublicKey: parsed.senderPublicKey,
      recipientPublicKey: cache.publicKey,
      nonce: parsed.nonce,
      ciphertext: parsed.ciphertext,
    });
    expect(new TextDecoder().decode(opened.plaintext)).toBe(v.plaintext);
    expect(opened.label).toBe(ENCLAVER_LABEL);
    const prefixed = {
      sender_tee_pubkey: `0x${v.envelope.sender_tee_pubkey}`,
      nonce: `0x${v.envelope.nonce}`,
      encrypted_data: `0x${v.envelope.encrypted_data}`,
    };
    expect(bytesToHex(parseEnvelope(prefixed).ciphertext)).toBe(v.encrypted_data_hex);
  });

  it("accepts a SEC1 sender key in the envelope", () => {
    const parsed = parseEnvelope({ ...v.envelope, sender_tee_pubkey: v.sender_public_key_sec1_hex });
    expect(bytesToHex(parsed.senderPublicKey)).toBe(v.sender_public_key_sec1_hex);
  });
});

describe("capsule envelope v1 vector (the current Nova runtime's label)", () => {
  const capsule = vectors.capsule_envelope_v1;

  it("reproduces the AES key and the whole envelope from the same keys, nonce and plaintext", () => {
    expect(capsule.hkdf_info).toBe(CAPSULE_LABEL);
    expect(DEFAULT_ENVELOPE_LABEL).toBe(CAPSULE_LABEL);
    expect(bytesToHex(envelopeAesKey(sharedX, senderSec1, receiverSec1, nonce, CAPSULE_LABEL))).toBe(
      capsule.aes_key_hex,
    );
    const envelope = sealEnvelope({
      sharedX,
      senderPublicKey: senderSec1,
      recipientPublicKey: receiverSec1,
      plaintext: v.plaintext,
      nonce,
    });
    expect(envelope.encrypted_data).toBe(capsule.encrypted_data_hex);
    expect(JSON.stringify(envelope)).toBe(JSON.stringify(capsule.envelope));
  });

  it("opens under whichever label the tag verifies, and names it", () => {
    const cache = new EcdhSecretCache(receiverPriv);
    for (const [envelope, label] of [
      [capsule.envelope, CAPSULE_LABEL],
      [v.envelope, ENCLAVER_LABEL],
    ] as const) {
      const p = parseEnvelope(envelope);
      const args = {
        sharedX: cache.sharedX(p.senderPublicKey),
        senderPublicKey: p.senderPublicKey,
        recipientPublicKey: cache.publicKey,
        nonce: p.nonce,
        ciphertext: p.ciphertext,
      };
      const opened = openEnvelope(args);
      expect(opened.label).toBe(label);
      expect(new TextDecoder().decode(opened.plaintext)).toBe(v.plaintext);
      // Restricted to the other label, the same envelope is refused like a wrong key.
      const other = label === CAPSULE_LABEL ? ENCLAVER_LABEL : CAPSULE_LABEL;
      expect(() => openEnvelope({ ...args, labels: [other] })).toThrow(EnvelopeDecryptError);
    }
  });
});

describe("parseEnvelope strictness", () => {
  const good = v.envelope;
  const cases: Array<[string, unknown, RegExp]> = [
    ["null", null, /E2E encrypted/],
    ["array", [good], /E2E encrypted/],
    ["string", JSON.stringify(good), /E2E encrypted/],
    ["plaintext JSON", { path: "wallet/root" }, /E2E encrypted/],
    [
      "missing nonce",
      { sender_tee_pubkey: good.sender_tee_pubkey, encrypted_data: good.encrypted_data },
      /missing nonce/,
    ],
    ["extra field", { ...good, extra: "x" }, /unexpected field/],
    ["non-string nonce", { ...good, nonce: 12 }, /nonce must be a hex string/],
    ["non-hex ciphertext", { ...good, encrypted_data: `zz${good.encrypted_data.slice(2)}` }, /non-hex/],
    ["odd hex", { ...good, nonce: `${good.nonce}0` }, /odd length/],
    ["11-byte nonce", { ...good, nonce: good.nonce.slice(2) }, /12 bytes/],
    ["16-byte nonce", { ...good, nonce: `${good.nonce}00000000` }, /12 bytes/],
    ["short ciphertext", { ...good, encrypted_data: "00".repeat(15) }, /at least 16/],
    [
      "P-256 sender",
      { ...good, sender_tee_pubkey: `3059301306072a8648ce3d020106082a8648ce3d03010703420004${"11".repeat(64)}` },
      /unsupported curve/,
    ],
    ["off-curve sender", { ...good, sender_tee_pubkey: `${good.sender_tee_pubkey.slice(0, -2)}00` }, /not a point/],
  ];
  for (const [name, body, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => parseEnvelope(body)).toThrow(EnvelopeFormatError);
      expect(() => parseEnvelope(body)).toThrow(message);
    });
  }

  it("rejects any nonce length other than 12 (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }).filter((n) => n.length !== 12),
        (n) => {
          expect(() => parseEnvelope({ ...good, nonce: bytesToHex(n) })).toThrow(EnvelopeFormatError);
          expect(() => envelopeAesKey(aliceBobX, alice.publicKey, bob.publicKey, n)).toThrow(EnvelopeFormatError);
          expect(() =>
            openEnvelope({
              sharedX: aliceBobX,
              senderPublicKey: alice.publicKey,
              recipientPublicKey: bob.publicKey,
              nonce: n,
              ciphertext: new Uint8Array(32),
            }),
          ).toThrow(EnvelopeFormatError);
        },
      ),
    );
  });
});

describe("envelope properties", () => {
  function openAsBob(
    envelope: { sender_tee_pubkey: string; nonce: string; encrypted_data: string },
    bobPriv = bob.privateKey,
  ): Uint8Array {
    const p = parseEnvelope(envelope);
    const bobPub = p384PublicKeyFromPrivate(bobPriv);
    return openEnvelope({
      sharedX: p384SharedX(bobPriv, p.senderPublicKey),
      senderPublicKey: p.senderPublicKey,
      recipientPublicKey: bobPub,
      nonce: p.nonce,
      ciphertext: p.ciphertext,
    }).plaintext;
  }

  it("round-trips any plaintext (both directions share the ECDH secret)", () => {
    const bobCache = new EcdhSecretCache(bob.privateKey);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.option(fc.uint8Array({ minLength: 12, maxLength: 12 }), { nil: undefined }),
        (plaintext, n) => {
          const env = sealEnvelope({
            sharedX: aliceBobX,
            senderPublicKey: alice.publicKey,
            recipientPublicKey: bob.publicKey,
            plaintext,
            nonce: n,
          });
          const p = parseEnvelope(JSON.parse(JSON.stringify(env)));
          const opened = openEnvelope({
            sharedX: bobCache.sharedX(p.senderPublicKey),
            senderPublicKey: p.senderPublicKey,
            recipientPublicKey: bobCache.publicKey,
            nonce: p.nonce,
            ciphertext: p.ciphertext,
          });
          expect(bytesToHex(opened.plaintext)).toBe(bytesToHex(plaintext));
          expect(p.ciphertext.length).toBe(plaintext.length + 16);
        },
      ),
      { numRuns: 200 },
    );
    expect(bobCache.stats.misses).toBe(1);
  });

  it("string plaintexts are UTF-8 encoded", () => {
    const text = canonicalJson({ z: "é😀", a: [1, 2] });
    const env = sealEnvelope({
      sharedX: aliceBobX,
      senderPublicKey: alice.publicKey,
      recipientPublicKey: bob.publicKey,
      plaintext: text,
    });
    expect(new TextDecoder().decode(openAsBob(env))).toBe(text);
    expect(openAsBob(env)).toStrictEqual(utf8(text));
  });

  it("uses a fresh random nonce when none is given", () => {
    const a = sealEnvelope({
      sharedX: aliceBobX,
      senderPublicKey: alice.publicKey,
      recipientPublicKey: bob.publicKey,
      plaintext: "x",
    });
    const b = sealEnvelope({
      sharedX: aliceBobX,
      senderPublicKey: alice.publicKey,
      recipientPublicKey: bob.publicKey,
      plaintext: "x",
    });
    expect(a.nonce).toHaveLength(24);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.encrypted_data).not.toBe(b.encrypted_data);
  });

  it("fails on any flipped bit of ciphertext or nonce", () => {
    const plaintext = utf8(v.plaintext);
    const env = sealEnvelope({
      sharedX: aliceBobX,
      senderPublicKey: alice.publicKey,
      recipientPublicKey: bob.publicKey,
      plaintext,
      nonce,
    });
    const ct = hexToBytes(env.encrypted_data);
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (inNonce, pos, bit) => {
        const c = ct.slice();
        const n = nonce.slice();
        const target = inNonce ? n : c;
        const i = pos % target.length;
        target[i] = (target[i] ?? 0) ^ (1 << bit);
        expect(() =>
          openEnvelope({
            sharedX: aliceBobX,
            senderPublicKey: alice.publicKey,
            recipientPublicKey: bob.publicKey,
            nonce: n,
            ciphertext: c,
          }),
        ).toThrow(EnvelopeDecryptError);
      }),
      { numRuns: 300 },
    );
    // Control: the unmodified envelope opens.
    expect(openAsBob(env)).toStrictEqual(plaintext);
  });

  it("fails with the wrong recipient key, wrong shared secret or a swapped sender key", () => {
    const env = sealEnvelope({
      sharedX: aliceBobX,
      senderPublicKey: alice.publicKey,
      recipientPublicKey: bob.publicKey,
      plaintext: "secret",
    });
    expect(() => openAsBob(env, mallory.privateKey)).toThrow(EnvelopeDecryptError);
    const p = parseEnvelope(env);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (wrongX) => {
        fc.pre(bytesToHex(wrongX) !== bytesToHex(aliceBobX));
        expect(() =>
          openEnvelope({
            sharedX: wrongX,
            senderPublicKey: alice.publicKey,
            recipientPublicKey: bob.publicKey,
            nonce: p.nonce,
            ciphertext: p.ciphertext,
          }),
        ).toThrow(EnvelopeDecryptError);
      }),
      { numRuns: 50 },
    );
    // Same ECDH secret but the salt names another sender: the key differs, so it must fail.
    expect(() =>
      openEnvelope({
        sharedX: aliceBobX,
        senderPublicKey: mallory.publicKey,
        recipientPublicKey: bob.publicKey,
        nonce: p.nonce,
        ciphertext: p.ciphertext,
      }),
    ).toThrow(EnvelopeDecryptError);
  });

  it("sealEnvelope accepts SPKI keys and always emits the sender as SPKI", () => {
    const env = sealEnvelope({
      sharedX,
      senderPublicKey: hexToBytes(v.sender_tee_pubkey_spki_der_hex),
      recipientPublicKey: hexToBytes(v.receiver_tee_pubkey_spki_der_hex),
      plaintext: v.plaintext,
      nonce,
      label: ENCLAVER_LABEL,
    });
    expect(env).toStrictEqual(v.envelope);
  });
});
