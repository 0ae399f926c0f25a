// Key material of one version, by purpose (PROTOCOL.md §12): random, never derived from a request.
// Symmetric keys, secp256k1, P-256 and Ed25519 come from the TEE's randomness (the NSM inside an
// enclave); RSA keys come from OpenSSL's generator, which inside an enclave the kernel seeds from the
// same hardware source — node:crypto cannot take an external seed for RSA key generation.
// Stored form: 32 bytes (AES/HMAC key, EC scalar, Ed25519 seed) or PKCS#8 DER (RSA).
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { addressFromPrivateKey } from "../crypto/secp256k1.js";
import type { KeyPurpose } from "./purpose.js";

export const RSA_MODULUS_BITS = 3072;
const SYMMETRIC_KEY_BYTES = 32;

export type RandomSource = (n: number) => Promise<Uint8Array>;

export async function generateMaterial(purpose: KeyPurpose, random: RandomSource): Promise<Uint8Array> {
  switch (purpose) {
    case "encrypt":
    case "mac":
    case "sign-ed25519":
      return random(SYMMETRIC_KEY_BYTES);
    case "sign-secp256k1":
      // A uniform scalar from a longer random string (FIPS 186-5 A.2.1), as noble does for its own keys.
      return secp256k1.utils.randomSecretKey(await random(secp256k1.lengths.seed ?? 48));
    case "sign-p256":
      return p256.utils.randomSecretKey(await random(p256.lengths.seed ?? 48));
    case "sign-rsa":
    case "decrypt-rsa":
      return generateRsaPkcs8();
  }
}

function generateRsaPkcs8(): Promise<Uint8Array> {
  // Asynchronous: a 3072-bit key takes a noticeable fraction of a second, off the event loop.
  return new Promise((resolve, reject) =>
    generateKeyPair(
      "rsa",
      { modulusLength: RSA_MODULUS_BITS, publicExponent: 0x10001 },
      (err, _publicKey, privateKey) => {
        if (err) reject(err);
        else resolve(new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" })));
      },
    ),
  );
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

/** The private key as a node:crypto KeyObject (for signing and RSA decryption). */
export function privateKeyObject(purpose: KeyPurpose, material: Uint8Array): KeyObject {
  switch (purpose) {
    case "sign-secp256k1":
    case "sign-p256": {
      const curve = purpose === "sign-p256" ? p256 : secp256k1;
      const point = curve.getPublicKey(material, false);
      return createPrivateKey({
        key: {
          kty: "EC",
          crv: purpose === "sign-p256" ? "P-256" : "secp256k1",
          d: b64url(material),
          x: b64url(point.subarray(1, 33)),
          y: b64url(point.subarray(33, 65)),
        },
        format: "jwk",
      });
    }
    case "sign-ed25519":
      return createPrivateKey({
        key: { kty: "OKP", crv: "Ed25519", d: b64url(material), x: b64url(ed25519.getPublicKey(material)) },
        format: "jwk",
      });
    case "sign-rsa":
    case "decrypt-rsa":
      return createPrivateKey({ key: Buffer.from(material), format: "der", type: "pkcs8" });
    default:
      throw new Error(`a ${purpose} key has no private key object`);
  }
}

export interface PublicKeyInfo {
  /** SubjectPublicKeyInfo PEM. */
  pem: string;
  /** Ethereum address (lower case), for sign-secp256k1 only. */
  address?: string;
}

export function publicKeyOf(purpose: KeyPurpose, material: Uint8Array): PublicKeyInfo {
  const pem = createPublicKey(privateKeyObject(purpose, material)).export({ type: "spki", format: "pem" }).toString();
  return purpose === "sign-secp256k1" ? { pem, address: addressFromPrivateKey(material) } : { pem };
}
