// Public surface of the KV store engine, for the HTTP and sync layers.
export { KvStore, type KvStoreOptions } from "./kv-store.js";
export type {
  AppStats,
  DeleteResult,
  GetResult,
  KvLocalApi,
  KvReplicaApi,
  KvStoreApi,
  MergeOutcome,
  MergeRejectReason,
  MergeResult,
  MergeStatus,
  PutOptions,
  PutResult,
  StoreStats,
} from "./api.js";
export type { BatchOptions, ChangeBatch } from "./replication.js";
export type { AppDigest } from "./digest.js";
export { differingBuckets } from "./digest.js";
export type { WireRecord } from "./wire-format.js";
export { WIRE_VERSION } from "./wire-format.js";
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_OVERFLOW,
  LIMIT_CEILINGS,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type StoreLimits,
} from "./limits.js";
export * from "./errors.js";
export { compareClocks, mergeClocks, type ClockOrder, type VectorClock } from "./vector-clock.js";
