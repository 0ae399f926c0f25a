// Public surface of the KV store engine, for the HTTP and sync layers.
export { KvStore } from "./kv-store.js";
export type {
  AppStats,
  DeleteResult,
  GetResult,
  KvStoreOptions,
  MergeOutcome,
  MergeRejectReason,
  MergeResult,
  MergeStatus,
  PutOptions,
  PutResult,
  StoreStats,
} from "./kv-store.js";
export type { BatchOptions, ChangeBatch } from "./replication.js";
export type { AppDigest } from "./digest.js";
export { differingBuckets } from "./digest.js";
export type { WireRecord } from "./wire-format.js";
export { WIRE_VERSION } from "./wire-format.js";
export { DEFAULT_LIMITS, type OverflowPolicy, type StoreLimits } from "./limits.js";
export * from "./errors.js";
export { compareClocks, mergeClocks, type ClockOrder, type VectorClock } from "./vector-clock.js";
