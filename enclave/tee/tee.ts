// The node's view of its trusted execution environment: one wallet (secp256k1) and one P-384
// encryption key that never leave the TEE, plus a source of randomness. Two implementations:
// `SimulatedTee` (keys in process, simulation mode) and `OdynTee` (the enclave runtime's HTTP API).
// The interface is deliberately no wider than what Odyn can do, so code written against the
// simulation keeps working inside an enclave: messages are strings, envelope plaintexts are bytes
// that must be valid UTF-8 (Odyn's encrypt/decrypt carry strings), transactions are EIP-1559.
import type { Hex, TransactionSerializable } from "viem";
import { p384SpkiFromSec1 } from "../crypto/p384.js";
import { bytesToHex } from "../crypto/bytes.js";
import type { EnclaveIdentity } from "../protocol/identity.js";

// The wallet/envelope half of the interface is the protocol's (shared with the SDK); the node's
// modules keep importing it, and sealJson, from here.
export type { Envelope, EnvelopeLabel, OpenedEnvelope, ParsedEnvelope } from "../protocol/identity.js";
export { sealJson } from "../protocol/identity.js";

export interface Tee extends EnclaveIdentity {
  /** Which implementation this is; shown in /status and logs, never used for decisions about trust. */
  readonly kind: "simulated" | "odyn";

  /** Signs an EIP-1559 transaction; returns the serialized signed transaction, ready to broadcast. */
  signTransaction(tx: TransactionSerializable): Promise<Hex>;

  /** `n` cryptographically secure random bytes (from the NSM inside an enclave). */
  randomBytes(n: number): Promise<Uint8Array>;

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
