// The store's boundary: what the rest of the node may call. The HTTP KV routes use the local API,
// the cluster (replicator, sync handler) the replica API, and node.ts, which owns the store, both.
// KvStore implements them in memory; a persistent store has to implement the same two interfaces
// and nothing else, so neither the routes nor the cluster change when it lands.
import type { AppDigest } from "./digest.js";
import type { BatchOptions, ChangeBatch } from "./replication.js";
import type { DecodeFailure, WireRecord } from "./wire-format.js";

/** One app's keys and values, and the counters /status and metrics show. */
export interface KvLocalApi {
  put(appId: bigint, key: string, value: Uint8Array, opts?: PutOptions): PutResult;
  /** undefined = absent or expired. */
  get(appId: bigint, key: string): GetResult | undefined;
  delete(appId: bigint, key: string): DeleteResult;
  /** What `get` would open now, as an opaque token that changes with every change of the key. */
  versionToken(appId: bigint, key: string): object | undefined;
  /** Live keys of the app, sorted. */
  keys(appId: bigint): string[];
  /** Namespaces holding any record, ascending (app ids and reserved ids). */
  appIds(): bigint[];
  stats(): StoreStats;
  appStats(appId: bigint): AppStats;
}

/** What replication between nodes needs (README "Replication"). */
export interface KvReplicaApi {
  /** Identifies this store instance: positions are only meaningful within one epoch. */
  readonly epoch: string;
  /** Position of this node's latest change. */
  readonly head: number;
  /** Whole keys changed after `position`, bounded; from 0 it pages the whole store (the snapshot). */
  changesSince(position: number, opts?: BatchOptions): ChangeBatch;
  /** Validates and joins a peer's records; outcomes per record, in input order. */
  merge(records: readonly unknown[]): MergeResult;
  /** Whether any version (live, expired or tombstone) of the key is held here. */
  holdsKey(appId: bigint, key: string): boolean;
  /** Root hash per app that holds any record, keyed by decimal app id. */
  appRoots(): Record<string, string>;
  digest(appId: bigint): AppDigest;
  /** Buckets where a peer's digest differs from ours. */
  diffDigest(peer: AppDigest): number[];
  /** Every version of the app's keys in those buckets. */
  recordsInBuckets(appId: bigint, buckets: readonly number[]): WireRecord[];
  /** Every version of these keys of the app, tombstones included (what a key lease hands over). */
  recordsOf(appId: bigint, keys: readonly string[]): WireRecord[];
  /** Drops deleted keys whose latest change is at or before `throughSeq`; returns how many. */
  collectTombstones(throughSeq: number): number;
}

/** The whole boundary, as the node that owns the store sees it. */
export interface KvStoreApi extends KvLocalApi, KvReplicaApi {}

export interface PutOptions {
  /** 0 or absent = no expiry. */
  ttlMs?: number;
}

export interface PutResult {
  appId: bigint;
  key: string;
  updatedAtMs: number;
  expiresAtMs: number | null;
  /** Keys of this app evicted (turned into tombstones) to make room for this write. */
  evicted: string[];
  /** Change-log position that holds this write (and its evictions): what replicas must acknowledge. */
  position: number;
}

export interface GetResult {
  value: Uint8Array;
  updatedAtMs: number;
  ttlMs: number;
  expiresAtMs: number | null;
}

export interface DeleteResult {
  deleted: boolean;
  /** Change-log position that holds the delete (the current head when nothing was deleted). */
  position: number;
}

export type MergeStatus = "inserted" | "replaced" | "concurrent" | "ignored" | "rejected";

export type MergeRejectReason =
  | DecodeFailure
  | "future_timestamp"
  /** A clock entry above what any node can have issued by now (vector-clock.ts clockCeiling). */
  | "future_clock"
  /** Merging it would take the app beyond MERGE_QUOTA_HEADROOM × its quota. */
  | "over_quota"
  | "decrypt_failed"
  | "key_unavailable";

export interface MergeOutcome {
  appId: string | null;
  key: string | null;
  status: MergeStatus;
  reason?: MergeRejectReason;
}

export interface MergeResult {
  outcomes: MergeOutcome[];
  counts: Record<MergeStatus, number>;
}

export interface StoreStats {
  namespaces: number;
  liveKeys: number;
  liveBytes: number;
  tombstones: number;
  tombstoneBytes: number;
  evictions: number;
  head: number;
  /** The apps' own data only: the counters above without the reserved namespaces (named keys). */
  appData: { namespaces: number; liveKeys: number; liveBytes: number };
}

export type AppStats = Omit<StoreStats, "namespaces" | "head" | "appData">;
