// Key operations checked against independent verifiers: viem for the secp256k1 address, node:crypto
// for P-256, Ed25519 and RSA; and every refusal (wrong AAD, other app, flipped byte, wrong version).
import { constants, createHash, createHmac, publicEncrypt, verify as nodeVerify } from "node:crypto";
import { recoverAddress, recoverMessageAddress, type Hex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCiphertext, encodeCiphertext } from "../../../enclave/protocol/named-key-ciphertext.js";
import { generateMaterial, publicKeyOf } from "../../../enclave/keys/material.js";
import type { SignPurpose } from "../../../enclave/keys/purpose.js";
import { SignInputError, signWith, verifyWith } from "../../../enclave/keys/signatures.js";
import {
  DecryptFailedError,
  decryptAsymmetric,
  decryptUnder,
  encryptUnder,
  macWith,
  verifyMacWith,
} from "../../../enclave/keys/symmetric.js";
import { keyEncryptionKey, UnwrapError, unwrapMaterial, wrapMaterial } from "../../../enclave/keys/wrap.js";
import { randomBytes } from "node:crypto";

const random = async (n: number) => new Uint8Array(randomBytes(n));
const nonce = () => new Uint8Array(randomBytes(12));
const message = new TextEncoder().encode("pay 10 to 0xabc");
const ref = { appId: 42n, keyName: "orders", version: 3 };

describe("encrypt / decrypt", () => {
  let key: Uint8Array;
  beforeAll(async () => {
    key = await generateMaterial("encrypt", random);
  });

  it("round-trips with the caller's AAD; the ciphertext names key and version", () => {
    const aad = new TextEncoder().encode("order-17");
    const text = encryptUnder(ref, key, message, aad, nonce());
    const parts = decodeCiphertext(text);
    expect(parts).toMatchObject({ keyName: "orders", version: 3 });
    expect(decryptUnder(42n, parts, key, aad)).toEqual(message);
  });

  it("refuses a wrong AAD, another app, another version, a flipped byte and another key", async () => {
    const aad = new Uint8Array([1]);
    const parts = decodeCiphertext(encryptUnder(ref, key, message, aad, nonce()));
    expect(() => decryptUnder(42n, parts, key, new Uint8Array([2]))).toThrow(DecryptFailedError);
    expect(() => decryptUnder(43n, parts, key, aad)).toThrow(DecryptFailedError);
    expect(() => decryptUnder(42n, { ...parts, version: 4 }, key, aad)).toThrow(DecryptFailedError);
    expect(() => decryptUnder(42n, { ...parts, keyName: "other" }, key, aad)).toThrow(DecryptFailedError);
    const flipped = parts.sealed.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => decryptUnder(42n, { ...parts, sealed: flipped }, key, aad)).toThrow(DecryptFailedError);
    const other = await generateMaterial("encrypt", random);
    expect(() => decryptUnder(42n, parts, other, aad)).toThrow(DecryptFailedError);
    // Re-encoding the same body under another version is just another wrong version.
    const moved = decodeCiphertext(encodeCiphertext({ ...parts, version: 1 }));
    expect(() => decryptUnder(42n, moved, key, aad)).toThrow(DecryptFailedError);
  });

  it("limits the plaintext to 64 KiB", () => {
    expect(() => encryptUnder(ref, key, new Uint8Array(64 * 1024 + 1), new Uint8Array(), nonce())).toThrow(RangeError);
    expect(() => encryptUnder(ref, key, new Uint8Array(64 * 1024), new Uint8Array(), nonce())).not.toThrow();
  });
});

describe("signatures, checked by independent verifiers", () => {
  const keys = {} as Record<SignPurpose, Uint8Array>;
  beforeAll(async () => {
    for (const p of ["sign-secp256k1", "sign-p256", "sign-ed25519", "sign-rsa"] as const) {
      keys[p] = await generateMaterial(p, random);
    }
  });

  it("sign-secp256k1: an EIP-191 signature recovers (viem) to the key's address; a digest too", async () => {
    const { address } = publicKeyOf("sign-secp256k1", keys["sign-secp256k1"]);
    const signature = signWith("sign-secp256k1", keys["sign-secp256k1"], { message });
    expect(signature).toMatch(/^[0-9a-f]{128}(1b|1c)$/);
    const recovered = await recoverMessageAddress({ message: { raw: message }, signature: `0x${signature}` as Hex });
    expect(recovered.toLowerCase()).toBe(address);
    const digest = new Uint8Array(createHash("sha256").update(message).digest());
    const overDigest = signWith("sign-secp256k1", keys["sign-secp256k1"], { digest });
    const fromDigest = await recoverAddress({
      hash: `0x${Buffer.from(digest).toString("hex")}`,
      signature: `0x${overDigest}`,
    });
    expect(fromDigest.toLowerCase()).toBe(address);
  });

  it("sign-p256: DER ECDSA/SHA-256 that node:crypto verifies, for a message and for its digest", () => {
    const { pem } = publicKeyOf("sign-p256", keys["sign-p256"]);
    const signature = signWith("sign-p256", keys["sign-p256"], { message });
    expect(nodeVerify("sha256", message, pem, Buffer.from(signature, "hex"))).toBe(true);
    const digest = new Uint8Array(createHash("sha256").update(message).digest());
    const overDigest = signWith("sign-p256", keys["sign-p256"], { digest });
    expect(nodeVerify("sha256", message, pem, Buffer.from(overDigest, "hex"))).toBe(true);
  });

  it("sign-ed25519 and sign-rsa (PSS, salt 32): node:crypto verifies", () => {
    const ed = signWith("sign-ed25519", keys["sign-ed25519"], { message });
    expect(
      nodeVerify(null, message, publicKeyOf("sign-ed25519", keys["sign-ed25519"]).pem, Buffer.from(ed, "hex")),
    ).toBe(true);
    const rsa = signWith("sign-rsa", keys["sign-rsa"], { message });
    const key = {
      key: publicKeyOf("sign-rsa", keys["sign-rsa"]).pem,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    };
    expect(nodeVerify("sha256", message, key, Buffer.from(rsa, "hex"))).toBe(true);
  });

  it.each(["sign-secp256k1", "sign-p256", "sign-ed25519", "sign-rsa"] as const)(
    "%s: verifies its own signature, refuses a changed message, another key and garbage",
    async (purpose) => {
      const signature = signWith(purpose, keys[purpose], { message });
      expect(verifyWith(purpose, keys[purpose], { message }, signature)).toBe(true);
      expect(verifyWith(purpose, keys[purpose], { message }, `0x${signature}`)).toBe(true);
      expect(verifyWith(purpose, keys[purpose], { message: new Uint8Array([1, 2]) }, signature)).toBe(false);
      const other = await generateMaterial(purpose, random);
      expect(verifyWith(purpose, other, { message }, signature)).toBe(false);
      expect(verifyWith(purpose, keys[purpose], { message }, "zz")).toBe(false);
      expect(verifyWith(purpose, keys[purpose], { message }, "00".repeat(64))).toBe(false);
    },
  );

  it("refuses a digest for Ed25519 and RSA, and a digest that is not 32 bytes", () => {
    const digest = new Uint8Array(32);
    expect(() => signWith("sign-ed25519", keys["sign-ed25519"], { digest })).toThrow(SignInputError);
    expect(() => signWith("sign-rsa", keys["sign-rsa"], { digest })).toThrow(SignInputError);
    expect(() => signWith("sign-p256", keys["sign-p256"], { digest: new Uint8Array(31) })).toThrow(SignInputError);
  });
});

describe("mac, RSA-OAEP decryption, wrapping", () => {
  it("HMAC-SHA256 verifies its own MAC only", async () => {
    const key = await generateMaterial("mac", random);
    const mac = macWith(key, message);
    expect(mac).toBe(createHmac("sha256", key).update(message).digest("hex"));
    expect(verifyMacWith(key, message, mac)).toBe(true);
    expect(verifyMacWith(key, new Uint8Array([1]), mac)).toBe(false);
    expect(verifyMacWith(key, message, mac.slice(0, -2))).toBe(false);
    expect(verifyMacWith(key, message, "not hex")).toBe(false);
  });

  it("decrypt-rsa opens what anyone encrypts to its public key (OAEP/SHA-256), and nothing else", async () => {
    const key = await generateMaterial("decrypt-rsa", random);
    const { pem } = publicKeyOf("decrypt-rsa", key);
    const ciphertext = publicEncrypt(
      { key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      message,
    );
    expect(decryptAsymmetric(key, ciphertext)).toEqual(message);
    const sha1 = publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, message);
    expect(() => decryptAsymmetric(key, sha1)).toThrow(DecryptFailedError);
  });

  it("wrapped material opens only for its app, key and version under the same master secret", async () => {
    const master = new Uint8Array(32).fill(9);
    const material = await generateMaterial("encrypt", random);
    const wrapped = wrapMaterial(keyEncryptionKey(master, 42n, "orders"), ref, material, nonce());
    expect(unwrapMaterial(keyEncryptionKey(master, 42n, "orders"), ref, wrapped)).toEqual(material);
    expect(() => unwrapMaterial(keyEncryptionKey(master, 43n, "orders"), { ...ref, appId: 43n }, wrapped)).toThrow(
      UnwrapError,
    );
    expect(() => unwrapMaterial(keyEncryptionKey(master, 42n, "other"), { ...ref, keyName: "other" }, wrapped)).toThrow(
      UnwrapError,
    );
    expect(() => unwrapMaterial(keyEncryptionKey(master, 42n, "orders"), { ...ref, version: 4 }, wrapped)).toThrow(
      UnwrapError,
    );
    expect(() => unwrapMaterial(keyEncryptionKey(new Uint8Array(32), 42n, "orders"), ref, wrapped)).toThrow(
      UnwrapError,
    );
    expect(() => unwrapMaterial(keyEncryptionKey(master, 42n, "orders"), ref, wrapped.subarray(0, 20))).toThrow(
      UnwrapError,
    );
  });

  it("takes symmetric, secp256k1, P-256 and Ed25519 material from the given random source", async () => {
    const fixed = (n: number) => Promise.resolve(new Uint8Array(n).fill(7));
    expect(await generateMaterial("encrypt", fixed)).toEqual(new Uint8Array(32).fill(7));
    expect(await generateMaterial("sign-ed25519", fixed)).toEqual(new Uint8Array(32).fill(7));
    expect(await generateMaterial("sign-secp256k1", fixed)).toEqual(await generateMaterial("sign-secp256k1", fixed));
    expect(await generateMaterial("sign-p256", fixed)).toEqual(await generateMaterial("sign-p256", fixed));
  });
});
