// Single-use nonces for PoP (PROTOCOL.md §2). Bounded in memory: when full, the oldest
// outstanding nonce is dropped (its client just fetches a new one), so a flood of /nonce calls
// cannot grow memory; the per-address rate limit in front of /nonce keeps that flood small.
import { LRUCache } from "lru-cache";
import { bytesToBase64 } from "../crypto/bytes.js";
import { RandomPool } from "../crypto/random-pool.js";

export interface NonceStoreOptions {
  /** How long an issued nonce stays redeemable (POP_TIMEOUT_SECONDS). */
  ttlMs: number;
  /** Upper bound on outstanding nonces (NONCE_STORE_MAX). */
  maxEntries: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

export class NonceStore {
  private readonly issued: LRUCache<string, true>;
  private readonly random = new RandomPool();

  constructor(options: NonceStoreOptions) {
    const now = options.now ?? Date.now;
    this.issued = new LRUCache<string, true>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      allowStale: false,
      updateAgeOnGet: false,
      updateAgeOnHas: false,
      perf: { now },
      // Read the clock on every check: lru-cache otherwise reuses a reading until a timer clears it,
      // which a busy event loop delays, so a nonce could outlive the window by that much.
      ttlResolution: 0,
    });
  }

  /** A fresh nonce: standard padded base64 of 16 random bytes. */
  issue(): string {
    const nonce = bytesToBase64(this.random.take(16));
    this.issued.set(nonce, true);
    return nonce;
  }

  /** True exactly once per issued, unexpired nonce; the nonce is gone afterwards either way. */
  consume(nonce: string): boolean {
    const valid = this.issued.has(nonce);
    this.issued.delete(nonce);
    return valid;
  }

  get size(): number {
    return this.issued.size;
  }
}
