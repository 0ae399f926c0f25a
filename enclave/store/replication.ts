// Bounded batches over the change log, shared by delta sync and snapshot paging.
import type { KeyState } from "./namespace.js";
import { type WireRecord, encodeWireRecord, wireRecordSize } from "./wire-format.js";

export interface BatchOptions {
  /** Soft bound on the batch's JSON size; a single key larger than this still goes, alone. */
  maxBytes?: number;
  /** Bound on records per batch (at least one key's versions always go). */
  maxRecords?: number;
}

export interface ChangeBatch {
  /** Identifies this store instance; a reader seeing a new epoch must restart from position 0. */
  epoch: string;
  records: WireRecord[];
  /** Position to pass next time (the seq of the last key included, or the input position). */
  next: number;
  /** Highest position this node has handed out. */
  head: number;
  /** True when more changes follow `next`. */
  more: boolean;
}

export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_BATCH_RECORDS = 1000;

/**
 * Takes whole keys (all their versions) in sequence order until the next key would cross a bound.
 * Keys never split across batches, so `next` always names a fully delivered key.
 */
export function takeBatch(
  states: Iterable<KeyState>,
  position: number,
  opts: BatchOptions,
): { records: WireRecord[]; next: number; more: boolean } {
  const maxBytes = opts.maxBytes ?? DEFAULT_BATCH_BYTES;
  const maxRecords = opts.maxRecords ?? DEFAULT_BATCH_RECORDS;
  if (!(maxBytes > 0) || !(maxRecords > 0)) throw new Error("batch bounds must be positive");
  const records: WireRecord[] = [];
  let bytes = 0;
  let next = position;
  for (const state of states) {
    let size = 0;
    for (const v of state.versions) size += wireRecordSize(state.keyBytes, v);
    if (records.length > 0 && (bytes + size > maxBytes || records.length + state.versions.length > maxRecords)) {
      return { records, next, more: true };
    }
    for (const v of state.versions) records.push(encodeWireRecord(state.ns.appId, state.key, v));
    bytes += size;
    next = state.seq;
  }
  return { records, next, more: false };
}
