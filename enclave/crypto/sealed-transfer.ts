// Master-secret transfer between nodes (PROTOCOL.md §7). The requester sends a fresh P-384 key;
// the server answers with its own fresh ephemeral key and the secret under AES-256-GCM keyed by
// HKDF(ECDH x). Both keys are single-use, so neither node's long-term teePubkey can later open a
// recorded transfer, and the sync envelope around it is a second, independent layer.
import { randomBytes } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "./aead.js";
import { bytesToHex, hexToBytes } from "./bytes.js";
import { hkdfSha256 } from "./kdf.js";
import {
  generateP384KeyPair,
  P384KeyError,
  parseP384PublicKey,
  p384PublicKeyFromPrivate,
  p384SharedX,
  p384SpkiFromSec1,
} from "./p384.js";

export const MASTER_SECRET_BYTES = 32;
export const SEALED_HKDF_SALT = "nova-kms:sealed-master-secret";
export const SEALED_HKDF_INFO = "aes-gcm-key";

/** Wire form of the sealed secret (all hex, no 0x; ephemeral_pubkey is DER SPKI). */
export type SealedMasterSecret = { ephemeral_pubkey: string; encrypted_data: string; nonce: string };

export class SealedTransferError extends Error {
  override name = "SealedTransferError";
}

/** The AES key of a transfer from the ECDH x-coordinate. */
export function sealedTransferAesKey(sharedX: Uint8Array): Uint8Array {
  return hkdfSha256(sharedX, SEALED_HKDF_SALT, SEALED_HKDF_INFO, 32);
}

function checkSecret(secret: Uint8Array): void {
  if (secret.length !== MASTER_SECRET_BYTES)
    throw new SealedTransferError(`master secret must be ${MASTER_SECRET_BYTES} bytes`);
}

function publicKeyOrError(bytes: Uint8Array, what: string): Uint8Array {
  try {
    return parseP384PublicKey(bytes);
  } catch (err) {
    if (err instanceof P384KeyError) throw new SealedTransferError(`${what}: ${err.message}`);
    throw err;
  }
}

/**
 * Server side: seals `masterSecret` to the requester's fresh key (SPKI or SEC1). `ephemeral`
 * (a 48-byte private key or a key pair) and `nonce` exist for test vectors; in service both are
 * fresh random values.
 */
export function sealMasterSecret(args: {
  requesterEcdhPublicKey: Uint8Array;
  masterSecret: Uint8Array;
  ephemeral?: Uint8Array | { privateKey: Uint8Array };
  nonce?: Uint8Array;
}): SealedMasterSecret {
  checkSecret(args.masterSecret);
  const requester = publicKeyOrError(args.requesterEcdhPublicKey, "requester ecdh_pubkey");
  const ephemeralPrivate =
    args.ephemeral === undefined
      ? generateP384KeyPair().privateKey
      : args.ephemeral instanceof Uint8Array
        ? args.ephemeral
        : args.ephemeral.privateKey;
  const nonce = args.nonce ?? new Uint8Array(randomBytes(GCM_NONCE_BYTES));
  if (nonce.length !== GCM_NONCE_BYTES) throw new SealedTransferError(`nonce must be ${GCM_NONCE_BYTES} bytes`);
  const key = sealedTransferAesKey(p384SharedX(ephemeralPrivate, requester));
  return {
    ephemeral_pubkey: bytesToHex(p384SpkiFromSec1(p384PublicKeyFromPrivate(ephemeralPrivate))),
    encrypted_data: bytesToHex(aesGcmEncrypt(key, nonce, args.masterSecret)),
    nonce: bytesToHex(nonce),
  };
}

function hexField(sealed: Record<string, unknown>, name: keyof SealedMasterSecret): Uint8Array {
  const value = sealed[name];
  if (typeof value !== "string") throw new SealedTransferError(`sealed.${name} must be a hex string`);
  try {
    return hexToBytes(value);
  } catch (err) {
    throw new SealedTransferError(`sealed.${name}: ${(err as Error).message}`);
  }
}

/**
 * Requester side: opens a sealed secret (untrusted JSON from the peer) with the private half of
 * the key it sent. Throws SealedTransferError on any malformed field, a wrong key or altered bytes.
 */
export function openSealedMasterSecret(args: { requesterPrivateKey: Uint8Array; sealed: unknown }): Uint8Array {
  const sealed = args.sealed;
  if (sealed === null || typeof sealed !== "object" || Array.isArray(sealed))
    throw new SealedTransferError("sealed must be an object");
  const record = sealed as Record<string, unknown>;
  const ephemeral = publicKeyOrError(hexField(record, "ephemeral_pubkey"), "sealed.ephemeral_pubkey");
  const nonce = hexField(record, "nonce");
  if (nonce.length !== GCM_NONCE_BYTES) throw new SealedTransferError(`sealed.nonce must be ${GCM_NONCE_BYTES} bytes`);
  const ciphertext = hexField(record, "encrypted_data");
  if (ciphertext.length !== MASTER_SECRET_BYTES + GCM_TAG_BYTES) {
    throw new SealedTransferError(`sealed.encrypted_data must be ${MASTER_SECRET_BYTES + GCM_TAG_BYTES} bytes`);
  }
  const key = sealedTransferAesKey(p384SharedX(args.requesterPrivateKey, ephemeral));
  try {
    return aesGcmDecrypt(key, nonce, ciphertext);
  } catch {
    throw new SealedTransferError("sealed master secret does not decrypt (wrong key or altered data)");
  }
}

/** 0x-prefixed keccak256 of the secret: the value KMSRegistry.masterSecretHash holds. */
export function masterSecretHash(secret: Uint8Array): `0x${string}` {
  checkSecret(secret);
  return `0x${bytesToHex(keccak_256(secret))}`;
}
