// The node's view of its trusted execution environment: one wallet (secp256k1) and one P-384
// encryption key that never leave the TEE, plus a source of randomness. Two implementations:
// `SimulatedTee` (keys in process, simulation mode) and `OdynTee` (the enclave runtime's HTTP API).
// The interface is deliberately no wider than what Odyn can do, so code written against the
// simulation keeps working inside an enclave: messages are strings, envelope plaintexts are bytes
// that must be valid UTF-8 (Odyn's encrypt/decrypt carry strings), transactions are EIP-1559.
import type { Hex, TransactionSerializable } from "viem";
import type { Envelope, EnvelopeLabel, OpenedEnvelope, ParsedEnvelope } from "../crypto/envelope.js";
import { p384SpkiFromSec1 } from "../crypto/p384.js";
import { bytesToHex, utf8 } from "../crypto/bytes.js";
import { canonicalJson } from "../crypto/canonical-json.js";

/** `ParsedEnvelope` is what `parseEnvelope` returns: sender SEC1 key, 12-byte nonce, ciphertext ‖ tag. */
export type { Envelope, EnvelopeLabel, OpenedEnvelope, ParsedEnvelope };

export interface Tee {
  /** Which implementation this is; shown in /status and logs, never used for decisions about trust. */
  readonly kind: "simulated" | "odyn";

  /** The wallet address, canonical lower-case `0x` + 40 hex. */
  address(): Promise<string>;

  /**
   * EIP-191 personal_sign over the UTF-8 message (non-empty); 65-byte `0x` r‖s‖v hex with v ∈ {0, 1},
   * the runtime's own convention (PROTOCOL.md §3: the Nova runtime's KMS client rejects v > 3).
   */
  signMessage(message: string): Promise<Hex>;

  /** Signs an EIP-1559 transaction; returns the serialized signed transaction, ready to broadcast. */
  signTransaction(tx: TransactionSerializable): Promise<Hex>;

  /** `n` cryptographically secure random bytes (from the NSM inside an enclave). */
  randomBytes(n: number): Promise<Uint8Array>;

  /** The P-384 encryption public key as the 97-byte uncompressed SEC1 point. */
  encryptionPublicKey(): Promise<Uint8Array>;

  /**
   * Seals `plaintext` (valid UTF-8) to `recipientPublicKey` (SEC1 97 or SPKI 120 bytes) with the
   * Odyn envelope v1 (PROTOCOL.md §5): static ECDH between our key and the recipient's, fresh nonce.
   * `label` picks the HKDF label where the TEE can choose (the simulation can; an enclave runtime
   * seals under its own label whatever is asked — and a request it opened used that label anyway).
   */
  encryptTo(recipientPublicKey: Uint8Array, plaintext: Uint8Array, label?: EnvelopeLabel): Promise<Envelope>;

  /**
   * Opens an envelope sent to our key. Errors, the same in both implementations:
   * `EnvelopeFormatError` (crypto/envelope) for a nonce that is not 12 bytes, a sender key that is
   * not a P-384 point, or a plaintext that is not UTF-8; `EnvelopeDecryptError` when the tag does
   * not verify or the (sender, nonce) pair was already opened (Odyn refuses nonce reuse; the
   * simulation does the same so both modes behave alike). Anything else is an infrastructure fault.
   * The result names the label the envelope was sealed under, or undefined when the TEE cannot tell
   * (an enclave runtime opens only its own label and does not say which it is).
   */
  decryptFrom(envelope: ParsedEnvelope): Promise<OpenedEnvelope>;

  /** Releases connections or timers; the TEE must not be used afterwards. */
  close(): Promise<void>;
}

/** The teePubkey as registered on chain: DER SubjectPublicKeyInfo (120 bytes). */
export async function encryptionPublicKeySpki(tee: Tee): Promise<Uint8Array> {
  return p384SpkiFromSec1(await tee.encryptionPublicKey());
}

/** The teePubkey as hex of its SPKI without `0x`, the form `/status` and envelopes carry. */
export async function encryptionPublicKeySpkiHex(tee: Tee): Promise<string> {
  return bytesToHex(await encryptionPublicKeySpki(tee));
}

/**
 * The TEE could not do what was asked for a reason that is not the caller's (the enclave runtime
 * timed out, failed or answered nonsense). The HTTP layer answers 503 without knowing which TEE.
 */
export class TeeUnavailableError extends Error {
  override name = "TeeUnavailableError";
}

/** A request the TEE cannot serve as given (unsupported transaction type, bad length, …). */
export class TeeInputError extends Error {
  override readonly name = "TeeInputError";
}

/** Seals a JSON value to `recipientPublicKey`: canonical JSON (PROTOCOL.md §5), then the envelope. */
export function sealJson(
  tee: Pick<Tee, "encryptTo">,
  recipientPublicKey: Uint8Array,
  value: unknown,
  label?: EnvelopeLabel,
): Promise<Envelope> {
  return tee.encryptTo(recipientPublicKey, utf8(canonicalJson(value)), label);
}
