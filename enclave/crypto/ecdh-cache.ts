// Per-peer cache of the static P-384 ECDH secret (PROTOCOL.md §5). Both teePubkeys are long-lived,
// so priv·peer is the same for every message between two enclaves; an ECDH costs ~1 ms here while a
// cache hit costs a hex encode and a map lookup. Only the shared x is cached — the AES key still
// comes from HKDF per message because its salt includes the nonce. Bounded, so a caller spraying
// fresh keys cannot grow memory without limit (it only evicts older peers).
import type { KeyObject } from "node:crypto";
import { LRUCache } from "lru-cache";
import { bytesToHex } from "./bytes.js";
import { p384PrivateKeyObject, p384PublicKeyOfKeyObject, p384SharedXWithKeyObject } from "./p384.js";

export class EcdhSecretCache {
  readonly #privateKey: KeyObject;
  readonly #secrets: LRUCache<string, Uint8Array>;
  /** Our own SEC1 public key (derived once, handy for envelope salts). */
  readonly publicKey: Uint8Array;
  #hits = 0;
  #misses = 0;

  constructor(privateKey48: Uint8Array, maxEntries = 1024) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new Error("EcdhSecretCache maxEntries must be a positive integer");
    this.#privateKey = p384PrivateKeyObject(privateKey48);
    this.publicKey = p384PublicKeyOfKeyObject(this.#privateKey);
    this.#secrets = new LRUCache({ max: maxEntries });
  }

  /** 48-byte shared x with `peerSec1` (validated on a miss; a hit implies it was valid before). */
  sharedX(peerSec1: Uint8Array): Uint8Array {
    const id = bytesToHex(peerSec1);
    const cached = this.#secrets.get(id);
    if (cached) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    const secret = p384SharedXWithKeyObject(this.#privateKey, peerSec1);
    this.#secrets.set(id, secret);
    return secret;
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** Hit/miss counters for metrics. */
  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#secrets.size };
  }

  clear(): void {
    this.#secrets.clear();
  }
}
