// Anti-entropy digests. Each key hashes into one of a fixed number of buckets; a bucket's digest is
// the XOR of the hashes of its keys' states. XOR lets the store update a bucket in O(1) when one key
// changes (xor out the old hash, xor in the new), so reading a digest is O(buckets), not O(keys).
// Two nodes compare digests and exchange only the records of buckets that differ.
import { createHash } from "node:crypto";
import type { RecordVersion } from "./record.js";
import { clockToString } from "./vector-clock.js";

/** Hash words per key: 4 × 28 bits (kept below 2^30 so V8 stores them as small integers). */
export const HASH_WORDS = 4;
const WORD_MASK = 0x0fffffff;

export type StateHash = [number, number, number, number];

export const ZERO_HASH: StateHash = [0, 0, 0, 0];

export function bucketOf(key: string, buckets: number): number {
  const h = createHash("sha256").update(key, "utf8").digest();
  return h.readUInt32BE(0) % buckets;
}

/** Hash of a key's full state (all versions, in canonical order) — equal states, equal hashes. */
export function stateHash(key: string, versions: readonly RecordVersion[]): StateHash {
  const h = createHash("sha256");
  h.update(`${key.length}:${key}`, "utf8");
  for (const v of versions) {
    h.update(
      `|${clockToString(v.clock)}|${v.updatedAtMs}|${v.ttlMs}|${v.tombstone ? 1 : 0}|${v.origin}|${v.sealed.length}|`,
    );
    h.update(v.sealed, "latin1");
  }
  const d = h.digest();
  return [
    d.readUInt32BE(0) & WORD_MASK,
    d.readUInt32BE(4) & WORD_MASK,
    d.readUInt32BE(8) & WORD_MASK,
    d.readUInt32BE(12) & WORD_MASK,
  ];
}

/** XOR accumulators for every bucket of one namespace. */
export class BucketDigest {
  private readonly acc: Int32Array;
  constructor(readonly buckets: number) {
    this.acc = new Int32Array(buckets * HASH_WORDS);
  }

  toggle(bucket: number, hash: StateHash): void {
    const base = bucket * HASH_WORDS;
    for (let i = 0; i < HASH_WORDS; i++) this.acc[base + i]! ^= hash[i]!;
  }

  /** XOR of all buckets = XOR of every key's hash: one value that differs iff some bucket differs (w.h.p.). */
  root(): string {
    const words = new Int32Array(HASH_WORDS);
    for (let b = 0; b < this.buckets; b++)
      for (let i = 0; i < HASH_WORDS; i++) words[i]! ^= this.acc[b * HASH_WORDS + i]!;
    let s = "";
    for (let i = 0; i < HASH_WORDS; i++) s += (words[i]! >>> 0).toString(16).padStart(7, "0");
    return s;
  }

  /** Hex string per bucket ("0…0" for an empty bucket). */
  hex(): string[] {
    const out: string[] = [];
    for (let b = 0; b < this.buckets; b++) {
      let s = "";
      for (let i = 0; i < HASH_WORDS; i++) s += (this.acc[b * HASH_WORDS + i]! >>> 0).toString(16).padStart(7, "0");
      out.push(s);
    }
    return out;
  }
}

export interface AppDigest {
  app_id: string;
  buckets: number;
  /** One hex string per bucket. */
  hashes: string[];
}

/** Bucket indexes whose hashes differ (both digests must use the same bucket count). */
export function differingBuckets(a: AppDigest, b: AppDigest): number[] {
  if (a.buckets !== b.buckets || a.hashes.length !== b.hashes.length)
    throw new Error("digests use different bucket counts");
  const out: number[] = [];
  for (let i = 0; i < a.hashes.length; i++) if (a.hashes[i] !== b.hashes[i]) out.push(i);
  return out;
}
