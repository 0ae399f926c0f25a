// In-process TEE for simulation mode (DESIGN.md "Modes"). Same behaviour as Odyn where the node can
// observe it — EIP-1559 only, non-empty messages, UTF-8 envelope plaintexts, nonce reuse refused —
// so that nothing passes in simulation that would fail inside an enclave.
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Hex, TransactionSerializable } from "viem";
import { bytesToHex } from "../crypto/bytes.js";
import { P384_SEC1_BYTES, P384KeyError, parseP384PublicKey } from "../crypto/p384.js";
import {
  ENVELOPE_LABELS,
  EnvelopeDecryptError,
  EnvelopeFormatError,
  openEnvelope,
  sealEnvelope,
  type Envelope,
  type EnvelopeLabel,
  type OpenedEnvelope,
} from "../crypto/envelope.js";
import { EcdhSecretCache } from "../crypto/ecdh-cache.js";
import { RandomPool } from "../crypto/random-pool.js";
import { signPersonalMessage } from "../crypto/secp256k1.js";
import { TeeInputError, type ParsedEnvelope, type Tee } from "./tee.js";
import { toEip1559 } from "./eip1559.js";
import { EnvelopeReplayGuard, DEFAULT_REPLAY_WINDOW } from "./replay-guard.js";
import { checkRandomLength, decodeUtf8, ENVELOPE_NONCE_BYTES } from "./common.js";
import { deriveSimulatedKeys, identityFromKeys, type SimulatedIdentity, type SimulatedSeed } from "./sim-keys.js";

export { simulatedIdentity, type SimulatedIdentity, type SimulatedSeed } from "./sim-keys.js";

export interface SimulatedTeeOptions {
  /** SIM_NODE_SEED; a fresh random identity when absent. */
  seed?: SimulatedSeed;
  /** Peers whose ECDH secret stays cached (one per app instance or KMS node talking to us). */
  ecdhCacheEntries?: number;
  /** How many opened (sender, nonce) pairs are remembered to refuse replays; 0 turns it off. */
  replayWindow?: number;
  /**
   * Envelope labels this TEE opens, the first being the one it seals under when not told otherwise.
   * Default: both (a node serves apps of either runtime); the Odyn simulator passes one, as a runtime.
   */
  envelopeLabels?: readonly EnvelopeLabel[];
}

/**
 * A peer key as SEC1. An uncompressed point is taken as is: the ECDH cache checks it is on the
 * curve before its first use, and a cached secret means it passed. That saves a second curve check
 * (~25 µs) per request on the hot path, where parseEnvelope has already checked the key once.
 */
function peerSec1(bytes: Uint8Array): Uint8Array {
  return bytes.length === P384_SEC1_BYTES && bytes[0] === 0x04 ? bytes : parseP384PublicKey(bytes);
}

function asEnvelopeFormatError(err: unknown): unknown {
  return err instanceof P384KeyError ? new EnvelopeFormatError(`envelope sender key: ${err.message}`) : err;
}

export class SimulatedTee implements Tee {
  readonly kind = "simulated" as const;
  private readonly account: PrivateKeyAccount;
  private readonly walletPrivateKey: Uint8Array;
  private readonly ecdh: EcdhSecretCache;
  private readonly replay: EnvelopeReplayGuard;
  private readonly publicIdentity: SimulatedIdentity;
  private readonly ownSpkiHex: string;
  private readonly nonces = new RandomPool();
  private readonly labels: readonly EnvelopeLabel[];

  constructor(options: SimulatedTeeOptions = {}) {
    const keys = deriveSimulatedKeys(options.seed ?? nodeRandomBytes(32));
    this.walletPrivateKey = keys.walletPrivateKey;
    this.account = privateKeyToAccount(`0x${bytesToHex(keys.walletPrivateKey)}`);
    this.ecdh = new EcdhSecretCache(keys.encryptionPrivateKey, options.ecdhCacheEntries ?? 4096);
    this.replay = new EnvelopeReplayGuard(options.replayWindow ?? DEFAULT_REPLAY_WINDOW);
    this.publicIdentity = identityFromKeys(keys);
    this.ownSpkiHex = bytesToHex(this.publicIdentity.teePubkeySpki);
    this.labels = options.envelopeLabels ?? ENVELOPE_LABELS;
    if (this.labels.length === 0) throw new TeeInputError("envelopeLabels must name at least one label");
  }

  /** Public identity (wallet, teePubkey in both encodings); synchronous for scripts and the simulator. */
  get identity(): SimulatedIdentity {
    return this.publicIdentity;
  }

  /** Uncompressed secp256k1 public key of the wallet (`0x04…`, 65 bytes), as Odyn's /v1/eth/address gives it. */
  get walletPublicKey(): Hex {
    return this.account.publicKey;
  }

  async address(): Promise<string> {
    return this.publicIdentity.wallet;
  }

  async signMessage(message: string): Promise<Hex> {
    if (typeof message !== "string" || message.length === 0)
      throw new TeeInputError("message must be a non-empty string");
    return signPersonalMessage(this.walletPrivateKey, message) as Hex;
  }

  async signTransaction(tx: TransactionSerializable): Promise<Hex> {
    return this.account.signTransaction(toEip1559(tx));
  }

  async randomBytes(n: number): Promise<Uint8Array> {
    checkRandomLength(n);
    return new Uint8Array(nodeRandomBytes(n));
  }

  async encryptionPublicKey(): Promise<Uint8Array> {
    return this.publicIdentity.teePubkey.slice();
  }

  async encryptTo(recipientPublicKey: Uint8Array, plaintext: Uint8Array, label?: EnvelopeLabel): Promise<Envelope> {
    decodeUtf8(plaintext, (m) => new TeeInputError(m));
    if (label !== undefined && !this.labels.includes(label))
      throw new TeeInputError(`this TEE does not seal under ${label}`);
    const recipient = peerSec1(recipientPublicKey);
    return sealEnvelope({
      sharedX: this.ecdh.sharedX(recipient),
      senderPublicKey: this.publicIdentity.teePubkey,
      senderSpkiHex: this.ownSpkiHex,
      recipientPublicKey: recipient,
      plaintext,
      nonce: this.nonces.take(ENVELOPE_NONCE_BYTES),
      label: label ?? this.labels[0],
    });
  }

  async decryptFrom(envelope: ParsedEnvelope): Promise<OpenedEnvelope> {
    let sender: Uint8Array;
    let sharedX: Uint8Array;
    try {
      sender = peerSec1(envelope.senderPublicKey);
      sharedX = this.ecdh.sharedX(sender);
    } catch (err) {
      throw asEnvelopeFormatError(err);
    }
    if (envelope.nonce.length !== ENVELOPE_NONCE_BYTES)
      throw new EnvelopeFormatError("envelope nonce must be 12 bytes");
    if (this.replay.has(sender, envelope.nonce))
      throw new EnvelopeDecryptError("envelope nonce was already used by this sender");
    const opened = openEnvelope({
      sharedX,
      senderPublicKey: sender,
      recipientPublicKey: this.publicIdentity.teePubkey,
      nonce: envelope.nonce,
      ciphertext: envelope.ciphertext,
      labels: this.labels,
    });
    decodeUtf8(opened.plaintext, (m) => new EnvelopeFormatError(m));
    this.replay.remember(sender, envelope.nonce);
    return opened;
  }

  async close(): Promise<void> {
    // Nothing to release: keys live in this object and go with it.
  }
}
