// The part of an enclave's TEE that either end of the signed channel uses (PROTOCOL.md §3, §5): one
// wallet that signs the PoP strings and one P-384 key that seals and opens envelopes. The node's
// full `Tee` (enclave/tee/tee.ts) extends it; an app passes its own runtime's identity to the SDK.
// Types only (plus `sealJson`), so clients can depend on it without the node's TEE implementations.
import { utf8 } from "../crypto/bytes.js";
import { canonicalJson } from "../crypto/canonical-json.js";
import type { Envelope, EnvelopeLabel, OpenedEnvelope, ParsedEnvelope } from "../crypto/envelope.js";

/** `ParsedEnvelope` is what `parseEnvelope` returns: sender SEC1 key, 12-byte nonce, ciphertext ‖ tag. */
export type { Envelope, EnvelopeLabel, OpenedEnvelope, ParsedEnvelope };

export interface EnclaveIdentity {
  /** The wallet address, canonical lower-case `0x` + 40 hex. */
  address(): Promise<string>;

  /**
   * EIP-191 personal_sign over the UTF-8 message (non-empty); 65-byte `0x` r‖s‖v hex with v ∈ {0, 1},
   * the runtime's own convention (PROTOCOL.md §3: the Nova runtime's KMS client rejects v > 3).
   */
  signMessage(message: string): Promise<`0x${string}`>;

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
}

/** Seals a JSON value to `recipientPublicKey`: canonical JSON (PROTOCOL.md §5), then the envelope. */
export function sealJson(
  identity: Pick<EnclaveIdentity, "encryptTo">,
  recipientPublicKey: Uint8Array,
  value: unknown,
  label?: EnvelopeLabel,
): Promise<Envelope> {
  return identity.encryptTo(recipientPublicKey, utf8(canonicalJson(value)), label);
}
