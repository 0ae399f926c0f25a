// One version of one key, as every node stores and replicates it. The fields that decide conflicts
// and expiry (clock, updatedAtMs, ttlMs, origin, tombstone, sealed bytes) are all replicated, so every
// node reaches the same verdict from the same inputs.
import { type VectorClock, clockEntryCount, clockToString, compareClocks } from "./vector-clock.js";

export interface RecordVersion {
  readonly clock: VectorClock;
  /** Wall-clock time of the write on its origin node. */
  readonly updatedAtMs: number;
  /** 0 = never expires; otherwise the record is gone from `updatedAtMs + ttlMs` on. */
  readonly ttlMs: number;
  readonly tombstone: boolean;
  /** Wallet of the node that made this version (lower-case 0x-hex). */
  readonly origin: string;
  /**
   * nonce(12) ‖ AES-GCM ciphertext ‖ tag(16) as a binary string (one char per byte, latin1); "" for
   * tombstones. A string, not a Uint8Array: V8 keeps it on the heap in one allocation, where a small
   * Uint8Array costs a typed-array object, an ArrayBuffer and an off-heap backing store (measured
   * ~120 vs ~290 bytes of heap+buffers, and far less RSS, for a 92-byte value).
   */
  readonly sealed: string;
}

export const EMPTY_SEALED = "";

/**
 * Metadata charged per version on top of key and sealed value bytes, so that quotas reflect what a
 * record really costs (clock, numbers, flags, bookkeeping) and tiny values cannot exhaust memory.
 */
export const RECORD_META_BYTES = 64;
export const CLOCK_ENTRY_BYTES = 48;

export function versionBytes(keyBytes: number, v: RecordVersion): number {
  return keyBytes + v.sealed.length + RECORD_META_BYTES + CLOCK_ENTRY_BYTES * clockEntryCount(v.clock);
}

export function expiresAtMs(v: RecordVersion): number | null {
  return v.ttlMs > 0 ? v.updatedAtMs + v.ttlMs : null;
}

/** Expired from the expiry instant itself on (now === expiresAt is already expired). */
export function isExpired(v: RecordVersion, now: number): boolean {
  return v.ttlMs > 0 && now >= v.updatedAtMs + v.ttlMs;
}

export function isLive(v: RecordVersion, now: number): boolean {
  return !v.tombstone && !isExpired(v, now);
}

/**
 * What an expired version becomes: a tombstone with the same clock, time and origin. Keeping the
 * clock (rather than dropping the record) stops an older, dominated version held by a lagging replica
 * from resurrecting the key; the deterministic form means every node converts to identical bytes.
 */
export function expiredForm(v: RecordVersion): RecordVersion {
  return {
    clock: v.clock,
    updatedAtMs: v.updatedAtMs,
    ttlMs: 0,
    tombstone: true,
    origin: v.origin,
    sealed: EMPTY_SEALED,
  };
}

/**
 * Deterministic total order used between versions that no clock orders (concurrent, or equal clocks):
 * later updatedAtMs, then greater origin, then tombstone over value (so an expired form outranks its
 * live original), then greater sealed bytes, then greater ttl, then greater clock text.
 * Positive when `a` wins.
 */
export function tiebreak(a: RecordVersion, b: RecordVersion): number {
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs - b.updatedAtMs;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  if (a.tombstone !== b.tombstone) return a.tombstone ? 1 : -1;
  // Code-unit order of binary strings is byte order.
  if (a.sealed !== b.sealed) return a.sealed < b.sealed ? -1 : 1;
  if (a.ttlMs !== b.ttlMs) return a.ttlMs - b.ttlMs;
  const ca = clockToString(a.clock);
  const cb = clockToString(b.clock);
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

/**
 * True when `b` supersedes `a`: b's clock strictly dominates, or the clocks are equal and b wins the
 * tie-break. This is a strict partial order, which is what makes sibling merging a semilattice.
 */
export function supersedes(b: RecordVersion, a: RecordVersion): boolean {
  const rel = compareClocks(a.clock, b.clock);
  if (rel === "before") return true;
  if (rel === "equal") return tiebreak(b, a) > 0;
  return false;
}

export function sameVersion(a: RecordVersion, b: RecordVersion): boolean {
  return compareClocks(a.clock, b.clock) === "equal" && tiebreak(a, b) === 0;
}
