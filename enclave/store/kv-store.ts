// The in-enclave KV engine: per-app namespaces of encrypted records with vector clocks, TTL, quotas
// and LRU eviction, plus the replication surface (change feed, snapshot, digests, merge) that the
// sync layer drives. Everything is in memory; the store holds no global state, so several nodes can
// live in one process (tests do exactly that).
import { randomUUID } from "node:crypto";
import type {
  AppStats,
  DeleteResult,
  GetResult,
  KvStoreApi,
  MergeOutcome,
  MergeResult,
  MergeStatus,
  PutOptions,
  PutResult,
  StoreStats,
} from "./api.js";
import { ChangeLog } from "./change-log.js";
import { type AppDigest, bucketOf, differingBuckets } from "./digest.js";
import {
  CorruptRecordError,
  InvalidInputError,
  KeyUnavailableError,
  QuotaExceededError,
  StoreError,
} from "./errors.js";
import { ExpiryIndex } from "./expiry-index.js";
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_OVERFLOW,
  MERGE_QUOTA_HEADROOM,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type StoreLimits,
  checkAppId,
  isReservedNamespace,
  checkKey,
  checkTtl,
  checkValue,
  resolveLimits,
} from "./limits.js";
import { type Counters, type KeyState, Namespace, zeroCounters } from "./namespace.js";
import {
  type RecordVersion,
  EMPTY_SEALED,
  expiredForm,
  expiresAtMs,
  isExpired,
  isLive,
  versionBytes,
} from "./record.js";
import { type BatchOptions, type ChangeBatch, takeBatch } from "./replication.js";
import { type NonceSource, openValue, pooledNonceSource, sealValue } from "./sealing.js";
import { mergeSibling, sortSiblings } from "./siblings.js";
import {
  type VectorClock,
  EMPTY_CLOCK,
  clockCeiling,
  isNodeId,
  maxCounter,
  mergeClocks,
  nextCounter,
  withEntry,
} from "./vector-clock.js";
import { type WireRecord, decodeWireRecord, encodeWireRecord } from "./wire-format.js";

export interface KvStoreOptions {
  /** This node's wallet, lower-case 0x-hex: its entry in vector clocks and the origin of its writes. */
  nodeId: string;
  /**
   * The app's 32-byte KV data key (the node derives it from the master secret). Called on every
   * seal and open, so the source caches: the node's ServingKeys derives each app's key once.
   */
  dataKey: (appId: bigint) => Uint8Array;
  now?: () => number;
  nonces?: NonceSource;
  limits?: Partial<StoreLimits>;
  overflow?: OverflowPolicy;
  /** Merged records stamped further than this in the future are refused. */
  maxClockSkewMs?: number;
  digestBuckets?: number;
  /** Identifies this store instance in change batches (random by default). */
  epoch?: string;
}

const DEFAULT_BUCKETS = 256;

export class KvStore implements KvStoreApi {
  readonly nodeId: string;
  readonly epoch: string;
  readonly limits: StoreLimits;
  readonly overflow: OverflowPolicy;
  private readonly keyFn: (appId: bigint) => Uint8Array;
  private readonly now: () => number;
  private readonly nonces: NonceSource;
  private readonly maxSkewMs: number;
  private readonly buckets: number;
  private readonly namespaces = new Map<bigint, Namespace>();
  private readonly totals: Counters = zeroCounters();
  private readonly log = new ChangeLog<KeyState>();
  private readonly expiry = new ExpiryIndex<{ state: KeyState; version: RecordVersion }>();
  /** This node's clock counter: above every value of its own entry seen anywhere, so a write after a
   *  tombstone was collected (or after a restart that recovered records) is never dominated. Hybrid
   *  (vector-clock.ts nextCounter), so it never runs ahead of the wall clock by more than the skew. */
  private counter = 0;

  constructor(opts: KvStoreOptions) {
    if (!isNodeId(opts.nodeId)) throw new Error("nodeId must be a lower-case 0x-hex wallet address");
    this.nodeId = opts.nodeId;
    this.keyFn = opts.dataKey;
    this.now = opts.now ?? Date.now;
    this.nonces = opts.nonces ?? pooledNonceSource();
    this.limits = resolveLimits(opts.limits);
    this.overflow = opts.overflow ?? DEFAULT_OVERFLOW;
    if (!OVERFLOW_POLICIES.includes(this.overflow)) {
      throw new Error(`overflow must be one of ${OVERFLOW_POLICIES.join(", ")}`);
    }
    this.maxSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (!Number.isSafeInteger(this.maxSkewMs) || this.maxSkewMs < 0)
      throw new Error("maxClockSkewMs must be a non-negative integer");
    this.buckets = opts.digestBuckets ?? DEFAULT_BUCKETS;
    if (!Number.isSafeInteger(this.buckets) || this.buckets < 1 || this.buckets > 65536)
      throw new Error("digestBuckets must be 1..65536");
    this.epoch = opts.epoch ?? randomUUID();
  }

  // ---- local API (what the HTTP layer calls) ----

  put(appIdIn: bigint, key: string, valueIn: Uint8Array, opts: PutOptions = {}): PutResult {
    const appId = checkAppId(appIdIn);
    const keyBytes = checkKey(key, this.limits.maxKeyBytes);
    const value = checkValue(valueIn, this.limits.maxValueBytes);
    const ttlMs = checkTtl(opts.ttlMs, this.limits.maxTtlMs);
    const now = this.nowMs();
    this.sweep(now);
    const sealed = sealValue(this.keyFor(appId), appId, key, value, this.nonces);
    const ns = this.namespaces.get(appId);
    const existing = ns?.entries.get(key);
    // Size with the clock this write will carry (one more entry at most than the joined clock).
    const draft: RecordVersion = {
      clock: withEntry(joinClocks(existing), this.nodeId, nextCounter(this.counter, now)),
      updatedAtMs: now,
      ttlMs,
      tombstone: false,
      origin: this.nodeId,
      sealed,
    };
    const victims = this.planQuota(ns, existing, versionBytes(keyBytes, draft));

    // Commit: nothing below can fail, so a write is either complete or absent.
    const space = ns ?? this.namespace(appId);
    for (const victim of victims) {
      this.writeLocal(space, victim.key, victim.keyBytes, victim, EMPTY_SEALED, true, 0, now);
      space.counters.evictions++;
      this.totals.evictions++;
    }
    const state = this.writeLocal(space, key, keyBytes, existing, sealed, false, ttlMs, now);
    const written = state.versions[0]!;
    return {
      appId,
      key,
      updatedAtMs: written.updatedAtMs,
      expiresAtMs: expiresAtMs(written),
      evicted: victims.map((v) => v.key),
      position: this.head,
    };
  }

  get(appIdIn: bigint, key: string): GetResult | undefined {
    const appId = checkAppId(appIdIn);
    checkKey(key, this.limits.maxKeyBytes);
    const now = this.nowMs();
    this.sweep(now);
    const state = this.namespaces.get(appId)?.entries.get(key);
    const top = state?.versions[0];
    if (!state || !top || !isLive(top, now)) return undefined;
    let value: Uint8Array;
    try {
      value = openValue(this.keyFor(appId), appId, key, top.sealed);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new CorruptRecordError();
    }
    state.ns.touch(state);
    return { value, updatedAtMs: top.updatedAtMs, ttlMs: top.ttlMs, expiresAtMs: expiresAtMs(top) };
  }

  delete(appIdIn: bigint, key: string): DeleteResult {
    const appId = checkAppId(appIdIn);
    const keyBytes = checkKey(key, this.limits.maxKeyBytes);
    const now = this.nowMs();
    this.sweep(now);
    const ns = this.namespaces.get(appId);
    const state = ns?.entries.get(key);
    if (!ns || !state?.live) return { deleted: false, position: this.head };
    this.writeLocal(ns, key, keyBytes, state, EMPTY_SEALED, true, 0, now);
    return { deleted: true, position: this.head };
  }

  /** Apps that have any record (live or tombstone) on this node, for anti-entropy. */
  appIds(): bigint[] {
    this.sweep(this.nowMs());
    const ids: bigint[] = [];
    for (const ns of this.namespaces.values()) if (ns.entries.size > 0) ids.push(ns.appId);
    return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * The version a `get` would open now, as an opaque token, without opening it (undefined when
   * absent, expired or deleted). Versions are immutable and replaced on every change, so a caller
   * may cache what it decoded from a value under this token (keys/key-records.ts does).
   */
  versionToken(appIdIn: bigint, key: string): object | undefined {
    const appId = checkAppId(appIdIn);
    const now = this.nowMs();
    this.sweep(now);
    const top = this.namespaces.get(appId)?.entries.get(key)?.versions[0];
    return top && isLive(top, now) ? top : undefined;
  }

  /** Whether this node holds any version (live, expired or tombstone) of the key. */
  holdsKey(appIdIn: bigint, key: string): boolean {
    return this.namespaces.get(checkAppId(appIdIn))?.entries.has(key) ?? false;
  }

  /** Live keys of an app, sorted. */
  keys(appIdIn: bigint): string[] {
    const appId = checkAppId(appIdIn);
    this.sweep(this.nowMs());
    const ns = this.namespaces.get(appId);
    return ns ? [...ns.recency.keys()].sort() : [];
  }

  stats(): StoreStats {
    this.sweep(this.nowMs());
    const t = this.totals;
    const appData = { namespaces: this.namespaces.size, liveKeys: t.liveKeys, liveBytes: t.liveBytes };
    for (const ns of this.namespaces.values()) {
      if (!isReservedNamespace(ns.appId)) continue;
      appData.namespaces--;
      appData.liveKeys -= ns.counters.liveKeys;
      appData.liveBytes -= ns.counters.liveBytes;
    }
    return {
      namespaces: this.namespaces.size,
      liveKeys: t.liveKeys,
      liveBytes: t.liveBytes,
      tombstones: t.tombstones,
      tombstoneBytes: t.tombstoneBytes,
      evictions: t.evictions,
      head: this.log.head,
      appData,
    };
  }

  appStats(appIdIn: bigint): AppStats {
    const appId = checkAppId(appIdIn);
    this.sweep(this.nowMs());
    const c = this.namespaces.get(appId)?.counters ?? zeroCounters();
    return {
      liveKeys: c.liveKeys,
      liveBytes: c.liveBytes,
      tombstones: c.tombstones,
      tombstoneBytes: c.tombstoneBytes,
      evictions: c.evictions,
    };
  }

  // ---- replication API (what the sync layer calls) ----

  /** Current position of this node's change sequence. */
  get head(): number {
    return this.log.head;
  }

  /**
   * Keys changed after `position`, whole keys in sequence order, bounded; resume with `next`.
   * Also the paged snapshot: the change log holds each key (live or tombstone) exactly once, at its
   * latest change, so paging it from 0 is a full dump; keys written during paging move past the
   * cursor and arrive on a later page, and after the last page (`more: false`) the reader simply
   * keeps following the feed from `next`.
   */
  changesSince(position: number, opts: BatchOptions = {}): ChangeBatch {
    if (!Number.isSafeInteger(position) || position < 0)
      throw new InvalidInputError("position must be a non-negative integer");
    this.sweep(this.nowMs());
    const batch = takeBatch(this.log.after(position), position, opts);
    return { epoch: this.epoch, head: this.log.head, ...batch };
  }

  digest(appIdIn: bigint): AppDigest {
    const appId = checkAppId(appIdIn);
    this.sweep(this.nowMs());
    const ns = this.namespaces.get(appId);
    const hashes = ns ? ns.digest.hex() : new Array<string>(this.buckets).fill("0".repeat(28));
    return { app_id: appId.toString(10), buckets: this.buckets, hashes };
  }

  /**
   * One root hash per app that has any records (tombstones included), keyed by decimal app id: the
   * first step of anti-entropy, to find which apps need a bucket-level comparison. O(apps × buckets).
   */
  appRoots(): Record<string, string> {
    this.sweep(this.nowMs());
    const out: Record<string, string> = {};
    const apps = [...this.namespaces.values()]
      .filter((ns) => ns.entries.size > 0)
      .sort((a, b) => (a.appId < b.appId ? -1 : 1));
    for (const ns of apps) out[ns.appId.toString(10)] = ns.digest.root();
    return out;
  }

  /** Bucket indexes where a peer's digest differs from ours. */
  diffDigest(peer: AppDigest): number[] {
    if (
      typeof peer?.app_id !== "string" ||
      !/^(0|[1-9][0-9]{0,77})$/.test(peer.app_id) ||
      !Array.isArray(peer.hashes)
    ) {
      throw new InvalidInputError("malformed digest");
    }
    const ours = this.digest(BigInt(peer.app_id));
    if (peer.buckets !== ours.buckets || peer.hashes.length !== ours.hashes.length)
      throw new InvalidInputError("digest bucket count differs");
    return differingBuckets(ours, peer);
  }

  /** Every version (live or tombstone) of the app's keys that fall in the given buckets. */
  recordsInBuckets(appIdIn: bigint, buckets: readonly number[]): WireRecord[] {
    const appId = checkAppId(appIdIn);
    this.sweep(this.nowMs());
    const wanted = new Set(buckets);
    const ns = this.namespaces.get(appId);
    const out: WireRecord[] = [];
    if (!ns) return out;
    for (const state of ns.entries.values()) {
      if (!wanted.has(state.bucket)) continue;
      for (const v of state.versions) out.push(encodeWireRecord(appId, state.key, v));
    }
    return out;
  }

  /** Every version (live or tombstone) of the named keys of an app (keys not held are skipped). */
  recordsOf(appIdIn: bigint, keys: readonly string[]): WireRecord[] {
    const appId = checkAppId(appIdIn);
    this.sweep(this.nowMs());
    const entries = this.namespaces.get(appId)?.entries;
    const out: WireRecord[] = [];
    for (const key of keys) {
      for (const v of entries?.get(key)?.versions ?? []) out.push(encodeWireRecord(appId, key, v));
    }
    return out;
  }

  /**
   * Merges records from a peer. Each is validated (shape, sizes, timestamp skew, decryption under our
   * key with the (app, key) AAD) and then joined into the key's version set. Merging never evicts:
   * quotas are enforced where a write is accepted; evicting here would make each node delete
   * different keys. Outcomes are per record, in input order.
   */
  merge(records: readonly unknown[], opts: { now?: number } = {}): MergeResult {
    const now = opts.now ?? this.nowMs();
    this.sweep(now);
    const counts: Record<MergeStatus, number> = { inserted: 0, replaced: 0, concurrent: 0, ignored: 0, rejected: 0 };
    const outcomes: MergeOutcome[] = [];
    for (const input of records) {
      const outcome = this.mergeOne(input, now);
      counts[outcome.status]++;
      outcomes.push(outcome);
    }
    return { outcomes, counts };
  }

  /**
   * Drops deleted keys (visible version is a tombstone) whose latest change is at or before
   * `throughSeq` on this node's sequence.
   * The cluster passes the lowest position every member has acknowledged, so every member already
   * holds the tombstone and no stale replica can bring the key back. Returns how many were dropped.
   * Cost: one pass over the log prefix up to `throughSeq`.
   */
  collectTombstones(throughSeq: number): number {
    if (!Number.isSafeInteger(throughSeq) || throughSeq < 0)
      throw new InvalidInputError("throughSeq must be a non-negative integer");
    this.sweep(this.nowMs());
    const doomed: KeyState[] = [];
    for (const state of this.log.after(0)) {
      if (state.seq > throughSeq) break;
      // A dead key may still hold a concurrent, losing value version under its tombstone; every member
      // holds both (they travel together), so dropping the whole state is as safe as dropping a lone
      // tombstone, and it stops invisible values from lingering.
      if (!state.live) doomed.push(state);
    }
    for (const state of doomed) this.dropState(state);
    return doomed.length;
  }

  /**
   * Canonical text of the whole store (apps, keys, versions in a fixed order), after applying expiry
   * at the current time: two replicas with the same content produce identical strings.
   */
  canonicalDump(): string {
    this.sweep(this.nowMs());
    const apps = [...this.namespaces.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: unknown[] = [];
    for (const appId of apps) {
      const ns = this.namespaces.get(appId)!;
      const keys = [...ns.entries.keys()].sort();
      for (const key of keys) out.push(ns.entries.get(key)!.versions.map((v) => encodeWireRecord(appId, key, v)));
    }
    return JSON.stringify(out);
  }

  /**
   * Turns every version that has expired by `now` into its tombstone form. Reads already treat expired
   * versions as absent; this frees their values and fixes counters. O(log n) per expired version.
   */
  sweep(now: number = this.nowMs()): number {
    let converted = 0;
    const next = this.expiry.peekAt();
    if (next === undefined || next > now) return 0;
    for (const { state, version } of this.expiry.popDue(now)) {
      if (state.seq < 0 || !state.versions.includes(version)) continue;
      // Not a change to replicate: every node converts the same version to the same bytes at the
      // same instant, so it keeps its place in the change feed.
      const versions = state.versions.map((v) => (isExpired(v, now) && !v.tombstone ? expiredForm(v) : v));
      this.setVersions(state, sortSiblings(versions));
      converted++;
    }
    return converted;
  }

  // ---- internals ----

  private nowMs(): number {
    const t = this.now();
    if (!Number.isSafeInteger(t) || t < 0) throw new Error("clock returned an invalid time");
    return t;
  }

  private keyFor(appId: bigint): Uint8Array {
    let key: unknown;
    try {
      key = this.keyFn(appId);
    } catch {
      throw new KeyUnavailableError();
    }
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new KeyUnavailableError();
    return key;
  }

  private namespace(appId: bigint): Namespace {
    let ns = this.namespaces.get(appId);
    if (!ns) {
      ns = new Namespace(appId, this.buckets, this.totals);
      this.namespaces.set(appId, ns);
    }
    return ns;
  }

  /**
   * Decides which keys to evict so that the write fits, without changing anything. Throws
   * QuotaExceededError when the write cannot fit (reject policy, or nothing left to evict).
   */
  private planQuota(ns: Namespace | undefined, existing: KeyState | undefined, newBytes: number): KeyState[] {
    const { maxBytesPerApp, maxKeysPerApp } = this.limits;
    if (newBytes > maxBytesPerApp) {
      throw new QuotaExceededError("bytes", `record needs ${newBytes} bytes; the app quota is ${maxBytesPerApp} bytes`);
    }
    const wasLive = existing?.live === true;
    let bytes = (ns?.counters.liveBytes ?? 0) - (wasLive ? existing.bytes : 0) + newBytes;
    let keys = (ns?.counters.liveKeys ?? 0) + (wasLive ? 0 : 1);
    const fits = () => bytes <= maxBytesPerApp && keys <= maxKeysPerApp;
    if (fits()) return [];
    const quota = keys > maxKeysPerApp ? "keys" : "bytes";
    const message =
      quota === "keys"
        ? `the app already holds ${maxKeysPerApp} keys (quota)`
        : `the write would use ${bytes} bytes; the app quota is ${maxBytesPerApp} bytes`;
    if (this.overflow === "reject" || !ns || isReservedNamespace(ns.appId))
      throw new QuotaExceededError(quota, message);
    const victims: KeyState[] = [];
    for (const state of ns.recency.values()) {
      if (state === existing) continue; // never evict the record being written
      victims.push(state);
      bytes -= state.bytes;
      keys -= 1;
      if (fits()) return victims;
    }
    throw new QuotaExceededError(quota, message);
  }

  /** A local write or delete: joins every version this node holds for the key, then ticks our entry. */
  private writeLocal(
    ns: Namespace,
    key: string,
    keyBytes: number,
    existing: KeyState | undefined,
    sealed: string,
    tombstone: boolean,
    ttlMs: number,
    now: number,
  ): KeyState {
    const state = existing ?? this.newState(ns, key, keyBytes);
    this.counter = nextCounter(this.counter, now);
    const version: RecordVersion = {
      clock: withEntry(joinClocks(state), this.nodeId, this.counter),
      updatedAtMs: now,
      ttlMs,
      tombstone,
      origin: this.nodeId,
      sealed,
    };
    this.commit(state, [version], version);
    return state;
  }

  /** A key's state, registered in its namespace; it holds nothing until its first commit. */
  private newState(ns: Namespace, key: string, keyBytes: number): KeyState {
    const state = ns.newState(key, keyBytes, bucketOf(key, this.buckets));
    ns.entries.set(key, state);
    return state;
  }

  /**
   * The one way a key's replicated state changes (local write, delete, eviction, merge): new
   * versions, the key moves to the end of the change feed, and `added` — the version that caused
   * the change — is scheduled for expiry if it is live with a TTL (the others already are).
   */
  private commit(state: KeyState, versions: RecordVersion[], added: RecordVersion): void {
    this.setVersions(state, versions);
    this.log.record(state);
    if (added.ttlMs > 0 && !added.tombstone) this.trackExpiry(state, added);
  }

  /** Replaces a key's versions with its namespace's counters, digest and recency kept in step. */
  private setVersions(state: KeyState, versions: RecordVersion[]): void {
    state.ns.detach(state);
    state.versions = versions;
    state.ns.attach(state);
  }

  /** Removes a key from the store entirely (collection): indexes, namespace and change feed. */
  private dropState(state: KeyState): void {
    state.ns.detach(state);
    state.ns.entries.delete(state.key);
    this.log.remove(state);
  }

  private trackExpiry(state: KeyState, version: RecordVersion): void {
    this.expiry.push(version.updatedAtMs + version.ttlMs, { state, version });
    // Overwritten versions leave stale heap entries; drop them once they dominate the heap.
    if (this.expiry.size > 1024 && this.expiry.size > 2 * this.totals.ttlVersions) {
      this.expiry.compact(({ state: s, version: v }) => s.seq >= 0 && s.versions.includes(v));
    }
  }

  private mergeOne(input: unknown, now: number): MergeOutcome {
    const decoded = decodeWireRecord(input, this.limits, (k) => checkKey(k, this.limits.maxKeyBytes));
    if (!decoded.ok) {
      const r = input as { app_id?: unknown; key?: unknown } | null;
      const appId = typeof r?.app_id === "string" ? r.app_id : null;
      const key = typeof r?.key === "string" ? r.key : null;
      return { appId, key, status: "rejected", reason: decoded.reason };
    }
    const { appId, key, keyBytes } = decoded.record;
    let version = decoded.record.version;
    const base = { appId: appId.toString(10), key };
    if (version.updatedAtMs > now + this.maxSkewMs) return { ...base, status: "rejected", reason: "future_timestamp" };
    // An entry no node can have issued yet, for any node: accepting it would lift that node's counter
    // (ours, if it is our entry) towards the end of the safe integers, where its writes stop.
    if (maxCounter(version.clock) > clockCeiling(now, this.maxSkewMs))
      return { ...base, status: "rejected", reason: "future_clock" };
    if (!version.tombstone) {
      let dataKey: Uint8Array;
      try {
        dataKey = this.keyFor(appId);
      } catch {
        return { ...base, status: "rejected", reason: "key_unavailable" };
      }
      try {
        openValue(dataKey, appId, key, version.sealed);
      } catch {
        return { ...base, status: "rejected", reason: "decrypt_failed" };
      }
      // Arriving already expired: store the same tombstone form every node converts it to.
      if (isExpired(version, now)) version = expiredForm(version);
    }
    const ns = this.namespaces.get(appId);
    const existing = ns?.entries.get(key);
    let versions = [version];
    let status: MergeStatus = "inserted";
    if (existing) {
      const merged = mergeSibling(existing.versions, version);
      versions = merged.versions;
      status = merged.kind;
    }
    if (status !== "ignored" && this.beyondMergeQuota(ns, existing, keyBytes, versions))
      return { ...base, status: "rejected", reason: "over_quota" };

    // Bounded by the clock ceiling above, so a peer cannot push our counter out of reach.
    const own = version.clock[this.nodeId];
    if (own !== undefined && own > this.counter) this.counter = own;
    if (status === "ignored") return { ...base, status };
    const space = ns ?? this.namespace(appId);
    this.commit(existing ?? this.newState(space, key, keyBytes), versions, version);
    return { ...base, status };
  }

  /**
   * Whether a merge that leaves the key with `versions` grows the app's live data beyond
   * MERGE_QUOTA_HEADROOM × its quotas. Merges that shrink or keep its size, and deletes, always pass.
   */
  private beyondMergeQuota(
    ns: Namespace | undefined,
    existing: KeyState | undefined,
    keyBytes: number,
    versions: readonly RecordVersion[],
  ): boolean {
    if (versions[0]!.tombstone) return false;
    const bytes = versions.reduce((n, v) => n + versionBytes(keyBytes, v), 0);
    const heldBytes = existing?.live ? existing.bytes : 0;
    const addsKey = existing?.live !== true;
    if (!addsKey && bytes <= heldBytes) return false;
    const { maxBytesPerApp, maxKeysPerApp } = this.limits;
    const liveBytes = (ns?.counters.liveBytes ?? 0) - heldBytes + bytes;
    const liveKeys = (ns?.counters.liveKeys ?? 0) + (addsKey ? 1 : 0);
    return liveBytes > MERGE_QUOTA_HEADROOM * maxBytesPerApp || liveKeys > MERGE_QUOTA_HEADROOM * maxKeysPerApp;
  }
}

function joinClocks(state: KeyState | undefined): VectorClock {
  let clock = EMPTY_CLOCK;
  if (state) for (const v of state.versions) clock = mergeClocks(clock, v.clock);
  return clock;
}
