// One app's slice of the store: its keys, their recency order, its counters and its digest buckets.
// Counters are adjusted by detach/attach around every state change so that reading stats is O(1).
import type { Sequenced } from "./change-log.js";
import { BucketDigest, type StateHash, ZERO_HASH, stateHash } from "./digest.js";
import { type RecordVersion, versionBytes } from "./record.js";

export interface KeyState extends Sequenced {
  readonly ns: Namespace;
  readonly key: string;
  readonly keyBytes: number;
  readonly bucket: number;
  /** Non-superseded versions; versions[0] decides what a read sees. */
  versions: RecordVersion[];
  /** Accounted bytes of all versions. */
  bytes: number;
  /** versions[0] is not a tombstone (expiry is applied by the store's sweep before it is read). */
  live: boolean;
  hash: StateHash;
}

export interface Counters {
  liveKeys: number;
  liveBytes: number;
  tombstones: number;
  tombstoneBytes: number;
  evictions: number;
  /** Versions with a TTL that have not expired yet (sizes the expiry index's compaction). */
  ttlVersions: number;
}

export function zeroCounters(): Counters {
  return { liveKeys: 0, liveBytes: 0, tombstones: 0, tombstoneBytes: 0, evictions: 0, ttlVersions: 0 };
}

export class Namespace {
  readonly entries = new Map<string, KeyState>();
  /**
   * Live keys, least recently used first. A Map keeps insertion order, so delete+set moves a key to
   * the most-recent end in O(1) and the first entry is the LRU victim. We use this instead of
   * lru-cache because we need the order only, not a cache: lru-cache owns storage, evicts by itself
   * inside set() (we must plan evictions against two quotas before changing anything, and turn each
   * into a tombstone), and preallocates arrays of `max` slots per instance — one per app here.
   */
  readonly recency = new Map<string, KeyState>();
  readonly counters = zeroCounters();
  readonly digest: BucketDigest;

  constructor(
    readonly appId: bigint,
    buckets: number,
    private readonly totals: Counters,
  ) {
    this.digest = new BucketDigest(buckets);
  }

  newState(key: string, keyBytes: number, bucket: number): KeyState {
    return { ns: this, key, keyBytes, bucket, versions: [], bytes: 0, live: false, hash: ZERO_HASH, seq: 0 };
  }

  /** Removes the state's contribution from counters, digest and recency (before changing it). */
  detach(state: KeyState): void {
    if (state.versions.length === 0) return;
    this.add(state, -1);
    this.digest.toggle(state.bucket, state.hash);
    this.recency.delete(state.key);
  }

  /** Recomputes derived fields and adds the state's contribution back; a live key becomes most recent. */
  attach(state: KeyState): void {
    if (state.versions.length === 0) return;
    let bytes = 0;
    for (const v of state.versions) bytes += versionBytes(state.keyBytes, v);
    state.bytes = bytes;
    state.live = !state.versions[0]!.tombstone;
    state.hash = stateHash(state.key, state.versions);
    this.add(state, 1);
    this.digest.toggle(state.bucket, state.hash);
    if (state.live) this.recency.set(state.key, state);
  }

  touch(state: KeyState): void {
    if (!state.live) return;
    this.recency.delete(state.key);
    this.recency.set(state.key, state);
  }

  private add(state: KeyState, sign: 1 | -1): void {
    const ttl = state.versions.reduce((n, v) => n + (v.ttlMs > 0 && !v.tombstone ? 1 : 0), 0) * sign;
    for (const c of [this.counters, this.totals]) {
      if (state.live) {
        c.liveKeys += sign;
        c.liveBytes += sign * state.bytes;
      } else {
        c.tombstones += sign;
        c.tombstoneBytes += sign * state.bytes;
      }
      c.ttlVersions += ttl;
    }
  }
}
