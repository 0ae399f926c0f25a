// Vector clocks keyed by node wallet (lower-case 0x-hex). Kept as frozen plain objects with sorted
// keys: small (usually 1–3 entries), JSON-safe as they are, and canonical so equal clocks serialize
// to identical bytes on every node.
//
// A node's counter is hybrid: each tick takes max(previous + 1, wall clock in microseconds). It
// still only grows, so the clocks order events exactly as plain counters would; what it adds is a
// bound every receiver can check without knowing the writer: no honest node has issued a counter
// above its own wall clock in µs (the store writes far below one record per µs), so an entry beyond
// the receiver's clock plus the allowed skew was never issued by anyone (see clockCeiling).

export type VectorClock = Readonly<Record<string, number>>;

export type ClockOrder = "equal" | "before" | "after" | "concurrent";

export const EMPTY_CLOCK: VectorClock = Object.freeze({});

/** Counter units per millisecond of wall clock: counters are microseconds when they follow the clock. */
export const COUNTER_UNITS_PER_MS = 1000;

/** The counter a node issues next: above its previous one, and at least its wall clock in µs. */
export function nextCounter(previous: number, nowMs: number): number {
  return Math.max(previous + 1, nowMs * COUNTER_UNITS_PER_MS);
}

/**
 * The highest counter a receiver accepts in any entry of a clock: what a writer whose wall clock is
 * up to `maxSkewMs` ahead of ours could have issued. Until the year 2255 this is a safe integer.
 */
export function clockCeiling(nowMs: number, maxSkewMs: number): number {
  return Math.min((nowMs + maxSkewMs) * COUNTER_UNITS_PER_MS, Number.MAX_SAFE_INTEGER);
}

/** The largest counter in a clock (0 for the empty clock). */
export function maxCounter(c: VectorClock): number {
  let max = 0;
  for (const k in c) max = Math.max(max, c[k] ?? 0);
  return max;
}

const WALLET_RE = /^0x[0-9a-f]{40}$/;

export function isNodeId(id: string): boolean {
  return WALLET_RE.test(id);
}

/** Builds a canonical (sorted, frozen) clock; entries with counter 0 are dropped as they mean "unseen". */
export function makeClock(entries: Iterable<[string, number]>): VectorClock {
  const sorted = [...entries].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, number> = {};
  for (const [k, n] of sorted) out[k] = n;
  return Object.freeze(out);
}

/** Ordering of `a` relative to `b` under the happened-before relation. */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let aBigger = false;
  let bBigger = false;
  for (const k in a) {
    const av = a[k] ?? 0;
    const bv = b[k] ?? 0;
    if (av > bv) aBigger = true;
    else if (av < bv) bBigger = true;
  }
  for (const k in b) {
    if (!(k in a) && (b[k] ?? 0) > 0) bBigger = true;
  }
  if (aBigger && bBigger) return "concurrent";
  if (aBigger) return "after";
  if (bBigger) return "before";
  return "equal";
}

/** Point-wise maximum: the least clock that has seen everything both have seen. */
export function mergeClocks(a: VectorClock, b: VectorClock): VectorClock {
  const m = new Map<string, number>(Object.entries(a));
  for (const [k, n] of Object.entries(b)) m.set(k, Math.max(m.get(k) ?? 0, n));
  return makeClock(m);
}

/** `base` with `node`'s entry set to `counter` (callers pass a counter above every value seen). */
export function withEntry(base: VectorClock, node: string, counter: number): VectorClock {
  const m = new Map<string, number>(Object.entries(base));
  m.set(node, counter);
  return makeClock(m);
}

/** Canonical text form, used for tie-breaking and hashing. Keys are already sorted. */
export function clockToString(c: VectorClock): string {
  return JSON.stringify(c);
}

export function clockEntryCount(c: VectorClock): number {
  return Object.keys(c).length;
}
