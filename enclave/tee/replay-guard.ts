// Odyn's decrypt refuses a (client public key, nonce) pair it has already opened. The simulation
// keeps the same rule so that code developed against it does not come to rely on replays working.
// Memory is bounded: the oldest pairs are forgotten first. This is defence in depth only — request
// replay is stopped by single-use PoP nonces and timestamps (PROTOCOL.md §2–3), not by this window.
import { bytesToHex } from "../crypto/bytes.js";

export const DEFAULT_REPLAY_WINDOW = 65_536;

export class EnvelopeReplayGuard {
  // A Set iterates in insertion order, which makes it a cheap FIFO.
  private readonly seen = new Set<string>();

  constructor(private readonly capacity: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error("replay window must be a non-negative integer");
  }

  private static key(senderSec1: Uint8Array, nonce: Uint8Array): string {
    // The nonce is random per envelope; pairing it with part of the sender's x-coordinate keeps the
    // key short (memory) while separating senders.
    return bytesToHex(nonce) + bytesToHex(senderSec1.subarray(1, 17));
  }

  has(senderSec1: Uint8Array, nonce: Uint8Array): boolean {
    return this.capacity > 0 && this.seen.has(EnvelopeReplayGuard.key(senderSec1, nonce));
  }

  /** Call only after the envelope authenticated, so forged envelopes cannot burn a sender's nonces. */
  remember(senderSec1: Uint8Array, nonce: Uint8Array): void {
    if (this.capacity === 0) return;
    this.seen.add(EnvelopeReplayGuard.key(senderSec1, nonce));
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
