// Odyn envelope v1 (PROTOCOL.md §5): static P-384 ECDH between the two teePubkeys, HKDF-SHA256 to
// an AES-256-GCM key bound to both public keys and the nonce, ciphertext ‖ 16-byte tag, no AAD.
// The ECDH step is left to the caller (EcdhSecretCache) so the expensive part is done once per
// peer while the AES key stays per message — a cached AES key would be reused across nonces only
// by accident of the salt, and the protocol says to cache the shared secret, never the key.
import { randomBytes } from "node:crypto";
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "./aead.js";
import { bytesToHex, compareBytes, concatBytes, hexToBytes, utf8 } from "./bytes.js";
import { hkdfSha256 } from "./kdf.js";
import { P384_SEC1_BYTES, P384KeyError, parseP384PublicKey, p384SpkiFromSec1 } from "./p384.js";

/**
 * HKDF info labels of the two runtimes apps run on (PROTOCOL.md §5): the current Nova runtime
 * (nova-enclave-capsule) and the earlier enclaver/Odyn. Same construction, only the label differs,
 * so a node opens either and answers under the one the caller used.
 */
export const CAPSULE_LABEL = "capsule-ecdh-aes256gcm-v1";
export const ENCLAVER_LABEL = "enclaver-ecdh-aes256gcm-v1";
export const ENVELOPE_LABELS = [CAPSULE_LABEL, ENCLAVER_LABEL] as const;
export type EnvelopeLabel = (typeof ENVELOPE_LABELS)[number];
/** What a node or SDK seals under when nothing says otherwise: the current runtime's label. */
export const DEFAULT_ENVELOPE_LABEL: EnvelopeLabel = CAPSULE_LABEL;

export function isEnvelopeLabel(value: unknown): value is EnvelopeLabel {
  return (ENVELOPE_LABELS as readonly unknown[]).includes(value);
}

/** A decrypted envelope and the label it was sealed under (undefined: the TEE cannot tell, see Tee). */
export type OpenedEnvelope = { plaintext: Uint8Array; label: EnvelopeLabel | undefined };
const ENVELOPE_FIELDS = ["encrypted_data", "nonce", "sender_tee_pubkey"] as const;

export type Envelope = { sender_tee_pubkey: string; nonce: string; encrypted_data: string };

export type ParsedEnvelope = { senderPublicKey: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array };

/** The body is not a well-formed envelope (maps to 400). Messages are safe to show to the caller. */
export class EnvelopeFormatError extends Error {
  override name = "EnvelopeFormatError";
}

/** The envelope is well-formed but does not decrypt (wrong key, tampered bytes). */
export class EnvelopeDecryptError extends Error {
  override name = "EnvelopeDecryptError";
}

function hexField(body: Record<string, unknown>, field: (typeof ENVELOPE_FIELDS)[number]): Uint8Array {
  const value = body[field];
  if (typeof value !== "string") throw new EnvelopeFormatError(`envelope field ${field} must be a hex string`);
  try {
    return hexToBytes(value);
  } catch (err) {
    throw new EnvelopeFormatError(`envelope field ${field}: ${(err as Error).message}`);
  }
}

/**
 * Strictly parses a decoded JSON body as an envelope: an object with exactly the three string
 * fields, hex (optional 0x), a valid P-384 sender key (SPKI or SEC1), a 12-byte nonce and at least
 * a tag's worth of ciphertext.
 */
export function parseEnvelope(body: unknown): ParsedEnvelope {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new EnvelopeFormatError("Request must be E2E encrypted: body is not an envelope object");
  }
  const record = body as Record<string, unknown>;
  const keys = Object.keys(record);
  const missing = ENVELOPE_FIELDS.filter((f) => !Object.hasOwn(record, f));
  if (missing.length === ENVELOPE_FIELDS.length) {
    throw new EnvelopeFormatError("Request must be E2E encrypted");
  }
  if (missing.length > 0) throw new EnvelopeFormatError(`envelope is missing ${missing.join(", ")}`);
  const extra = keys.filter((k) => !(ENVELOPE_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) throw new EnvelopeFormatError(`envelope has unexpected field(s) ${extra.join(", ")}`);

  const keyBytes = hexField(record, "sender_tee_pubkey");
  let senderPublicKey: Uint8Array;
  try {
    senderPublicKey = parseP384PublicKey(keyBytes);
  } catch (err) {
    if (err instanceof P384KeyError) throw new EnvelopeFormatError(`envelope sender_tee_pubkey: ${err.message}`);
    throw err;
  }
  const nonce = hexField(record, "nonce");
  if (nonce.length !== GCM_NONCE_BYTES)
    throw new EnvelopeFormatError(`envelope nonce must be ${GCM_NONCE_BYTES} bytes, got ${nonce.length}`);
  const ciphertext = hexField(record, "encrypted_data");
  if (ciphertext.length < GCM_TAG_BYTES)
    throw new EnvelopeFormatError(`envelope encrypted_data must be at least ${GCM_TAG_BYTES} bytes`);
  return { senderPublicKey, nonce, ciphertext };
}

// Keys that are already 97-byte SEC1 are the node's own or came through parseEnvelope (validated);
// anything else (e.g. an SPKI from the registry) is parsed and checked here.
function asSec1(key: Uint8Array): Uint8Array {
  return key.length === P384_SEC1_BYTES && key[0] === 0x04 ? key : parseP384PublicKey(key);
}

/**
 * AES-256 key of one envelope: HKDF(IKM = shared x, salt = sort(senderSec1, recipientSec1) ‖ nonce,
 * info = the runtime's label).
 */
export function envelopeAesKey(
  sharedX: Uint8Array,
  senderSec1: Uint8Array,
  recipientSec1: Uint8Array,
  nonce: Uint8Array,
  label: EnvelopeLabel = DEFAULT_ENVELOPE_LABEL,
): Uint8Array {
  if (nonce.length !== GCM_NONCE_BYTES)
    throw new EnvelopeFormatError(`envelope nonce must be ${GCM_NONCE_BYTES} bytes, got ${nonce.length}`);
  const a = asSec1(senderSec1);
  const b = asSec1(recipientSec1);
  // Sorting makes the salt the same in both directions, so one ECDH secret serves request and response.
  const salt = compareBytes(a, b) <= 0 ? concatBytes(a, b, nonce) : concatBytes(b, a, nonce);
  return hkdfSha256(sharedX, salt, label, 32);
}

export function sealEnvelope(args: {
  sharedX: Uint8Array;
  senderPublicKey: Uint8Array;
  recipientPublicKey: Uint8Array;
  plaintext: Uint8Array | string;
  nonce?: Uint8Array;
  /** Hex SPKI of `senderPublicKey`, when the caller keeps it (a TEE's own key never changes). */
  senderSpkiHex?: string;
  label?: EnvelopeLabel;
}): Envelope {
  const nonce = args.nonce ?? new Uint8Array(randomBytes(GCM_NONCE_BYTES));
  const sender = asSec1(args.senderPublicKey);
  const key = envelopeAesKey(args.sharedX, sender, args.recipientPublicKey, nonce, args.label);
  const plaintext = typeof args.plaintext === "string" ? utf8(args.plaintext) : args.plaintext;
  return {
    sender_tee_pubkey: args.senderSpkiHex ?? bytesToHex(p384SpkiFromSec1(sender)),
    nonce: bytesToHex(nonce),
    encrypted_data: bytesToHex(aesGcmEncrypt(key, nonce, plaintext)),
  };
}

/**
 * Decrypts an envelope under the first of `labels` whose GCM tag verifies (the tag is what tells the
 * labels apart; a wrong label fails like a wrong key). Throws EnvelopeDecryptError when none does.
 */
export function openEnvelope(args: {
  sharedX: Uint8Array;
  senderPublicKey: Uint8Array;
  recipientPublicKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  labels?: readonly EnvelopeLabel[];
}): { plaintext: Uint8Array; label: EnvelopeLabel } {
  if (args.ciphertext.length < GCM_TAG_BYTES) {
    throw new EnvelopeFormatError(`envelope encrypted_data must be at least ${GCM_TAG_BYTES} bytes`);
  }
  const sender = asSec1(args.senderPublicKey);
  const recipient = asSec1(args.recipientPublicKey);
  for (const label of args.labels ?? ENVELOPE_LABELS) {
    const key = envelopeAesKey(args.sharedX, sender, recipient, args.nonce, label);
    try {
      return { plaintext: aesGcmDecrypt(key, args.nonce, args.ciphertext), label };
    } catch {
      // Try the next label; only when none verifies is the envelope refused.
    }
  }
  throw new EnvelopeDecryptError("envelope does not decrypt (wrong key or altered data)");
}
