// Signing and verification with a version's material, by purpose (PROTOCOL.md §12):
//   sign-secp256k1  Ethereum style: 65-byte r‖s‖v (v = 27/28, what ecrecover and wallets use) over
//                   keccak256 of the EIP-191 message, or over a given 32-byte digest
//   sign-p256       ECDSA P-256 / SHA-256, DER; a given 32-byte digest is signed as the hash
//   sign-ed25519    Ed25519 over the message (a pre-hashed digest is not Ed25519; refused)
//   sign-rsa        RSA-PSS 3072 / SHA-256, salt length 32 (the digest length); message only
// Signatures travel as lower-case hex without 0x; verification accepts an optional 0x.
import { constants, sign as nodeSign, verify as nodeVerify, createPublicKey } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { p256 } from "@noble/curves/nist.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "../crypto/bytes.js";
import { activeSecp256k1, addressFromPrivateKey, parseRecoverableSignature } from "../crypto/secp256k1.js";
import { privateKeyObject } from "./material.js";
import type { SignPurpose } from "./purpose.js";

export const DIGEST_BYTES = 32;
const RSA_PSS_SALT_BYTES = 32;

/** What is signed: the message bytes, or (secp256k1, P-256) a 32-byte digest computed elsewhere. */
export type SignInput = { message: Uint8Array } | { digest: Uint8Array };

/** The input cannot be signed this way (wrong digest length, digest for Ed25519/RSA) (→ 400). */
export class SignInputError extends Error {
  override name = "SignInputError";
}

/** keccak256("\x19Ethereum Signed Message:\n" + length + message), for message bytes. */
export function ethereumMessageDigest(message: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(utf8(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

function digestOf(input: SignInput, purpose: SignPurpose): Uint8Array | undefined {
  if ("message" in input) return undefined;
  if (purpose === "sign-ed25519" || purpose === "sign-rsa") {
    throw new SignInputError(`a ${purpose} key signs messages, not digests`);
  }
  if (input.digest.length !== DIGEST_BYTES) throw new SignInputError(`digest must be ${DIGEST_BYTES} bytes`);
  return input.digest;
}

export function signWith(purpose: SignPurpose, material: Uint8Array, input: SignInput): string {
  const digest = digestOf(input, purpose);
  const message = "message" in input ? input.message : undefined;
  switch (purpose) {
    case "sign-secp256k1": {
      const hash = digest ?? ethereumMessageDigest(message as Uint8Array);
      const { signature64, recovery } = activeSecp256k1.sign(hash, material);
      return bytesToHex(concatBytes(signature64, Uint8Array.of(27 + recovery)));
    }
    case "sign-p256": {
      const signature = digest
        ? p256.sign(digest, material, { prehash: false, format: "der" })
        : p256.sign(message as Uint8Array, material, { format: "der" });
      return bytesToHex(signature);
    }
    case "sign-ed25519":
      return bytesToHex(ed25519.sign(message as Uint8Array, material));
    case "sign-rsa":
      return bytesToHex(
        nodeSign("sha256", message as Uint8Array, {
          key: privateKeyObject(purpose, material),
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: RSA_PSS_SALT_BYTES,
        }),
      );
  }
}

/** True when `signatureHex` is a valid signature of `input` by this version's key; never throws on bad input. */
export function verifyWith(
  purpose: SignPurpose,
  material: Uint8Array,
  input: SignInput,
  signatureHex: string,
): boolean {
  const digest = digestOf(input, purpose);
  const message = "message" in input ? input.message : undefined;
  let signature: Uint8Array;
  try {
    signature = hexToBytes(signatureHex);
  } catch {
    return false;
  }
  try {
    switch (purpose) {
      case "sign-secp256k1": {
        const hash = digest ?? ethereumMessageDigest(message as Uint8Array);
        const { signature64, recovery } = parseRecoverableSignature(signatureHex);
        const recovered = activeSecp256k1.recover(hash, signature64, recovery);
        const address = `0x${bytesToHex(keccak_256(recovered.subarray(1)).subarray(12))}`;
        return address === addressFromPrivateKey(material);
      }
      case "sign-p256": {
        const publicKey = p256.getPublicKey(material, false);
        return digest
          ? p256.verify(signature, digest, publicKey, { prehash: false, format: "der" })
          : p256.verify(signature, message as Uint8Array, publicKey, { format: "der" });
      }
      case "sign-ed25519":
        return ed25519.verify(signature, message as Uint8Array, ed25519.getPublicKey(material));
      case "sign-rsa":
        return nodeVerify(
          "sha256",
          message as Uint8Array,
          {
            key: createPublicKey(privateKeyObject(purpose, material)),
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: RSA_PSS_SALT_BYTES,
          },
          signature,
        );
    }
  } catch {
    return false;
  }
}
