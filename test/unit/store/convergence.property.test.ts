// Property tests: replicas converge byte-identically whatever order, duplication or batching the
// records arrive in; deletes are never undone by what happened before them; eviction never drops
// the write being made.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { QuotaExceededError } from "../../../enclave/store/errors.js";
import type { KvStore } from "../../../enclave/store/kv-store.js";
import { CLOCK_ENTRY_BYTES, RECORD_META_BYTES } from "../../../enclave/store/record.js";
import { SEALED_OVERHEAD } from "../../../enclave/store/sealing.js";
import type { WireRecord } from "../../../enclave/store/wire-format.js";
import { ManualClock, makeStore, syncAll } from "./helpers.js";

type Op =
  | { kind: "put"; node: number; app: number; key: number; value: number[]; ttl: number; dt: number }
  | { kind: "del"; node: number; app: number; key: number; dt: number }
  | { kind: "sync"; from: number; to: number; dt: number };

const WRITERS = 3;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      node: fc.nat(WRITERS - 1),
      app: fc.nat(1),
      key: fc.nat(4),
      value: fc.array(fc.nat(255), { maxLength: 8 }),
      ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
      dt: fc.integer({ min: -5, max: 10 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("del" as const),
      node: fc.nat(WRITERS - 1),
      app: fc.nat(1),
      key: fc.nat(4),
      dt: fc.integer({ min: -5, max: 10 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("sync" as const),
      from: fc.nat(WRITERS - 1),
      to: fc.nat(WRITERS - 1),
      dt: fc.nat(3),
    }),
    weight: 3,
  },
);

/** Runs ops on writer replicas (each with its own, skewed wall clock) and returns every record ever emitted. */
function runWriters(ops: Op[], base: ManualClock): { writers: KvStore[]; emitted: WireRecord[] } {
  const clocks = [0, 1, 2].map((i) => new ManualClock(base.t + i * 3));
  const writers = clocks.map((c, i) => makeStore(i, c, { limits: { maxKeysPerApp: 4 } }));
  const emitted: WireRecord[] = [];
  const positions = writers.map(() => 0);
  const capture = (i: number) => {
    const batch = writers[i]!.changesSince(positions[i]!);
    emitted.push(...batch.records);
    positions[i] = batch.next;
  };
  for (const op of ops) {
    if (op.kind === "sync") {
      clocks[op.to]!.advance(op.dt);
      if (op.from !== op.to) syncAll(writers[op.from]!, writers[op.to]!);
      capture(op.to);
      continue;
    }
    clocks[op.node]!.advance(op.dt);
    const w = writers[op.node]!;
    if (op.kind === "put") w.put(BigInt(op.app), `k${op.key}`, Uint8Array.from(op.value), { ttlMs: op.ttl });
    else w.delete(BigInt(op.app), `k${op.key}`);
    capture(op.node);
  }
  return { writers, emitted };
}

describe("replica convergence (property)", () => {
  it("N replicas receiving the same records in any order, duplicated and batched, end byte-identical", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(fc.nat(1000), { maxLength: 200 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 60 }),
        (ops, shuffles, batchSizes, later) => {
          const base = new ManualClock();
          const { writers, emitted } = runWriters(ops, base);
          const end = new ManualClock(base.t + later + 200);
          const replicas = shuffles.map((order, r) => {
            // A permutation of all records plus duplicates picked by the random indexes.
            const seq = emitted.map((rec, i) => ({ rec, sortKey: order[i % Math.max(order.length, 1)] ?? i }));
            seq.sort((x, y) => x.sortKey - y.sortKey);
            const deliveries = seq.map((x) => x.rec);
            for (const i of order.slice(0, 20)) if (emitted.length > 0) deliveries.push(emitted[i % emitted.length]!);
            const replica = makeStore(10 + r, end, { limits: { maxKeysPerApp: 4 } });
            const size = batchSizes[r]!;
            for (let i = 0; i < deliveries.length; i += size) {
              const res = replica.merge(JSON.parse(JSON.stringify(deliveries.slice(i, i + size))));
              expect(res.counts.rejected).toBe(0);
            }
            return replica;
          });
          const dump = replicas[0]!.canonicalDump();
          for (const r of replicas) expect(r.canonicalDump()).toBe(dump);
          for (const r of replicas) expect(r.digest(0n)).toEqual(replicas[0]!.digest(0n));
          // Writers that then receive everything reach the same state too (merge is a join).
          for (const w of writers) {
            w.merge(emitted, { now: end.t });
          }
          const writerDumps = writers.map((w) => {
            const probe = makeStore(20, end, { limits: { maxKeysPerApp: 4 } });
            syncAll(w, probe);
            return probe.canonicalDump();
          });
          for (const d of writerDumps) expect(d).toBe(dump);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a write that happened before a delete never brings the key back, in any delivery order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(255), { maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        fc.nat(3),
        fc.array(fc.nat(100), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: -1000, max: 1000 }),
        (values, deleter, order, skew) => {
          const clock = new ManualClock();
          const nodes = [0, 1, 2, 3].map((i) => makeStore(i, i === deleter ? new ManualClock(clock.t + skew) : clock));
          const emitted: WireRecord[] = [];
          values.forEach((v, i) => {
            const n = nodes[i % 4]!;
            if (i > 0) syncAll(nodes[(i - 1) % 4]!, n);
            n.put(7n, "key", Uint8Array.from(v));
            emitted.push(...n.changesSince(0).records);
          });
          // The deleter has seen every write before deleting.
          for (const n of nodes) syncAll(n, nodes[deleter]!);
          expect(nodes[deleter]!.delete(7n, "key").deleted).toBe(true);
          emitted.push(...nodes[deleter]!.changesSince(0).records);
          const shuffled = emitted
            .map((r, i) => ({ r, k: order[i % order.length]! }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.r);
          const fresh = makeStore(9, new ManualClock(clock.t + 2000));
          // Before the tombstone arrives the write may show; from then on the key stays gone.
          let deleted = false;
          for (const rec of [...shuffled, ...emitted.slice(0, 3)]) {
            fresh.merge([rec]);
            if (rec.tombstone) deleted = true;
            if (deleted) expect(fresh.get(7n, "key")).toBeUndefined();
          }
          expect(deleted).toBe(true);
          for (const n of nodes) {
            n.merge(shuffled, { now: clock.t + 2000 });
            expect(n.get(7n, "key")).toBeUndefined();
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("eviction never drops the record being written and keeps the app within quota", () => {
    const quota = 2000;
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.nat(12), size: fc.nat(900), read: fc.nat(12) }), { minLength: 1, maxLength: 60 }),
        (writes) => {
          const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: quota, maxKeysPerApp: 6 } });
          let evictions = 0;
          for (const w of writes) {
            s.get(1n, `k${w.read}`);
            const res = s.put(1n, `k${w.key}`, new Uint8Array(w.size).fill(w.size & 255));
            expect(res.evicted).not.toContain(`k${w.key}`);
            evictions += res.evicted.length;
            const got = s.get(1n, `k${w.key}`);
            expect(got?.value.length).toBe(w.size);
            for (const k of res.evicted) expect(s.get(1n, k)).toBeUndefined();
            const st = s.appStats(1n);
            expect(st.liveBytes).toBeLessThanOrEqual(quota);
            expect(st.liveKeys).toBeLessThanOrEqual(6);
          }
          expect(s.stats().evictions).toBe(evictions);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("reject mode: a write is refused exactly when it would exceed a quota, and a refused write changes nothing", () => {
    const maxBytesPerApp = 2000;
    const maxKeysPerApp = 4;
    let refusals = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.nat(8), size: fc.nat(600) }), { minLength: 1, maxLength: 40 }),
        (writes) => {
          const s = makeStore(0, new ManualClock(), { overflow: "reject", limits: { maxBytesPerApp, maxKeysPerApp } });
          // The model: accounted bytes of each live key (one writer, so one clock entry per record).
          const live = new Map<string, number>();
          const total = () => [...live.values()].reduce((a, b) => a + b, 0);
          for (const w of writes) {
            const key = `k${w.key}`;
            const bytes = key.length + SEALED_OVERHEAD + w.size + RECORD_META_BYTES + CLOCK_ENTRY_BYTES;
            const fits =
              total() - (live.get(key) ?? 0) + bytes <= maxBytesPerApp &&
              live.size + (live.has(key) ? 0 : 1) <= maxKeysPerApp;
            const before = { dump: s.canonicalDump(), stats: s.stats(), digest: s.digest(1n) };
            const write = () => s.put(1n, key, new Uint8Array(w.size));
            if (fits) {
              expect(write().evicted).toEqual([]);
              live.set(key, bytes);
            } else {
              expect(write).toThrow(QuotaExceededError);
              expect({ dump: s.canonicalDump(), stats: s.stats(), digest: s.digest(1n) }).toEqual(before);
              refusals++;
            }
            expect(s.appStats(1n)).toMatchObject({ liveBytes: total(), liveKeys: live.size });
          }
        },
      ),
      { numRuns: 100 },
    );
    // The generator does reach the quotas: the refusal branch ran.
    expect(refusals).toBeGreaterThan(0);
  });
});
