// A registered member turned hostile holds the master secret, so it can seal any value and send any
// clock. What it must not be able to do: stop other nodes' replication (by poisoning vector clocks
// so that their writes are refused everywhere) or grow an app without bound through merges.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { KvStore } from "../../../enclave/store/kv-store.js";
import { DEFAULT_MAX_CLOCK_SKEW_MS, MERGE_QUOTA_HEADROOM } from "../../../enclave/store/limits.js";
import { COUNTER_UNITS_PER_MS, clockCeiling } from "../../../enclave/store/vector-clock.js";
import type { WireRecord } from "../../../enclave/store/wire-format.js";
import { ManualClock, bytes, makeStore, nodeId, syncAll, text } from "./helpers.js";

const APP = 42n;
const MAX = Number.MAX_SAFE_INTEGER;

/** A correctly sealed record of `key` as the hostile node writes it, then given `clock` and `origin`. */
function forged(
  hostile: KvStore,
  key: string,
  clock: Record<string, number>,
  opts: { tombstone?: boolean; origin?: string } = {},
): WireRecord {
  hostile.put(APP, key, bytes(`forged ${key}`));
  const record = hostile.changesSince(0).records.find((r) => r.key === key)!;
  const origin = opts.origin ?? Object.keys(clock)[0]!;
  const tombstone = opts.tombstone ?? false;
  return { ...record, clock, origin, tombstone, ciphertext: tombstone ? "" : record.ciphertext };
}

/** Merges `from`'s whole feed into `to` and returns the reasons of anything refused. */
function deliver(from: KvStore, to: KvStore): string[] {
  const res = to.merge(from.changesSince(0).records);
  return res.outcomes.filter((o) => o.status === "rejected").map((o) => o.reason!);
}

describe("clock poisoning", () => {
  it("refuses a tombstone carrying the receiver's own entry at 2^53-1: nothing is deleted, its writes still replicate", () => {
    const clock = new ManualClock();
    const [a, b, hostile] = [makeStore(0, clock), makeStore(1, clock), makeStore(9, clock)];
    a.put(APP, "k", bytes("v1"));
    syncAll(a, b);
    const poison = forged(hostile, "k", { [nodeId(9)]: 1, [a.nodeId]: MAX }, { tombstone: true });
    expect(a.merge([poison]).outcomes[0]).toMatchObject({ status: "rejected", reason: "future_clock" });
    expect(text(a.get(APP, "k")?.value)).toBe("v1");
    clock.advance(1);
    a.put(APP, "k", bytes("v2"));
    expect(deliver(a, b)).toEqual([]);
    expect(text(b.get(APP, "k")?.value)).toBe("v2");
  });

  it("refuses an entry for a third node beyond the ceiling, and accepts one at the ceiling", () => {
    const clock = new ManualClock();
    const [a, hostile] = [makeStore(0, clock), makeStore(9, clock)];
    const ceiling = clockCeiling(clock.t, DEFAULT_MAX_CLOCK_SKEW_MS);
    expect(ceiling).toBe((clock.t + DEFAULT_MAX_CLOCK_SKEW_MS) * COUNTER_UNITS_PER_MS);
    const third = nodeId(5);
    const over = forged(hostile, "x", { [nodeId(9)]: 1, [third]: ceiling + 1 });
    const at = forged(hostile, "y", { [nodeId(9)]: 1, [third]: ceiling });
    expect(a.merge([over, at]).outcomes.map((o) => o.reason ?? o.status)).toEqual(["future_clock", "inserted"]);
  });

  it("a counter lifted to the ceiling by a peer keeps issuing writes that other nodes accept a moment later", () => {
    const clock = new ManualClock();
    const [a, b, hostile] = [makeStore(0, clock), makeStore(1, clock), makeStore(9, clock)];
    const edge = clockCeiling(clock.t, DEFAULT_MAX_CLOCK_SKEW_MS);
    expect(a.merge([forged(hostile, "k", { [nodeId(9)]: 1, [a.nodeId]: edge })]).counts.inserted).toBe(1);
    for (let i = 0; i < 100; i++) a.put(APP, `w${i}`, bytes(String(i)));
    const written = a.changesSince(0).records.filter((r) => r.key.startsWith("w"));
    expect(Math.max(...written.map((r) => r.clock[a.nodeId]!))).toBe(edge + 100);
    // A write lands on another node at least a millisecond after it was made.
    clock.advance(1);
    expect(deliver(a, b)).toEqual([]);
    expect(b.keys(APP)).toHaveLength(101);
  });

  it("counters follow the wall clock, so a node restarted empty dominates its old writes without recovering them", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    for (let i = 0; i < 1000; i++) a.put(APP, "k", bytes(String(i)));
    syncAll(a, b);
    clock.advance(1);
    const restarted = makeStore(0, clock);
    restarted.put(APP, "k", bytes("after restart"));
    expect(b.merge(restarted.changesSince(0).records).outcomes[0]).toMatchObject({ status: "replaced" });
    expect(text(b.get(APP, "k")?.value)).toBe("after restart");
  });
});

describe("merges and quotas", () => {
  it(`a peer cannot take an app beyond ${MERGE_QUOTA_HEADROOM}× its quota; a local write evicts back under it`, () => {
    const clock = new ManualClock();
    const limits = { maxKeysPerApp: 10 };
    const a = makeStore(0, clock, { limits });
    const hostile = makeStore(9, clock, { limits: { maxKeysPerApp: 1000 } });
    for (let i = 0; i < 10; i++) a.put(APP, `own${i}`, bytes("a"));
    for (let i = 0; i < 30; i++) hostile.put(APP, `flood${i}`, bytes("h"));
    const res = a.merge(hostile.changesSince(0).records);
    expect(res.counts).toMatchObject({ inserted: 10, rejected: 20 });
    expect(new Set(res.outcomes.filter((o) => o.status === "rejected").map((o) => o.reason))).toEqual(
      new Set(["over_quota"]),
    );
    expect(a.appStats(APP).liveKeys).toBe(MERGE_QUOTA_HEADROOM * limits.maxKeysPerApp);
    // Updates of held keys and deletes still merge at the ceiling.
    hostile.put(APP, "flood0", bytes("update"));
    hostile.delete(APP, "flood1");
    expect(
      a.merge(hostile.changesSince(0).records.filter((r) => r.key === "flood0" || r.key === "flood1")).counts,
    ).toMatchObject({ replaced: 2, rejected: 0 });
    a.put(APP, "mine", bytes("m"));
    expect(a.appStats(APP).liveKeys).toBe(limits.maxKeysPerApp);
  });

  it("bytes count too: a merge that grows a held key's value past the byte ceiling is refused", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock, { limits: { maxBytesPerApp: 4000 } });
    const hostile = makeStore(9, clock);
    a.put(APP, "k", new Uint8Array(10));
    syncAll(a, hostile);
    hostile.put(APP, "k", new Uint8Array(MERGE_QUOTA_HEADROOM * 4000));
    expect(a.merge(hostile.changesSince(0).records).outcomes[0]).toMatchObject({ reason: "over_quota" });
    expect(a.get(APP, "k")?.value.length).toBe(10);
  });
});

describe("a hostile member cannot stop replication (property)", () => {
  const HONEST = 3;
  const wallets = [...Array.from({ length: HONEST }, (_, i) => nodeId(i)), nodeId(9), nodeId(7)];

  type Op =
    | { kind: "put" | "del"; node: number; key: number }
    | { kind: "sync"; from: number; to: number }
    | { kind: "inject"; to: number; key: number; tombstone: boolean; entries: [number, number][] };

  // Counters an attacker would pick: the end of the safe integers, values around the receiver's
  // ceiling, and small ones.
  type Counter = number | { nearCeiling: number };
  const counter: fc.Arbitrary<Counter> = fc.oneof(
    fc.constant(MAX),
    fc.integer({ min: 2 ** 52, max: MAX }),
    fc.integer({ min: -2000, max: 2000 }).map((d) => ({ nearCeiling: d })),
    fc.integer({ min: 1, max: 1000 }),
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constantFrom("put" as const, "del" as const), node: fc.nat(HONEST - 1), key: fc.nat(3) }),
    fc.record({ kind: fc.constant("sync" as const), from: fc.nat(HONEST - 1), to: fc.nat(HONEST - 1) }),
    fc.record({
      kind: fc.constant("inject" as const),
      to: fc.nat(HONEST - 1),
      key: fc.nat(3),
      tombstone: fc.boolean(),
      entries: fc.array(fc.tuple(fc.nat(wallets.length - 1), fc.nat()), { minLength: 1, maxLength: 4 }),
    }),
  );

  /** The hostile record an inject op describes: its counters picked from `values`, at time `now`. */
  function injected(o: Extract<Op, { kind: "inject" }>, hostile: KvStore, values: Counter[], now: number): WireRecord {
    const ceiling = clockCeiling(now, DEFAULT_MAX_CLOCK_SKEW_MS);
    const entries = o.entries.map(([w, v]): [string, number] => {
      const pick = values[v % values.length]!;
      const n = typeof pick === "number" ? pick : Math.min(MAX, Math.max(1, ceiling + pick.nearCeiling));
      return [wallets[w]!, n];
    });
    return forged(hostile, `k${o.key}`, Object.fromEntries(entries), { tombstone: o.tombstone });
  }

  it("after any injected clocks, honest writes replicate to every honest node without a refusal", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(counter, { minLength: 8, maxLength: 8 }), (ops, values) => {
        const clock = new ManualClock();
        const nodes = Array.from({ length: HONEST }, (_, i) => makeStore(i, clock));
        const hostile = makeStore(9, clock);
        for (const o of ops) {
          clock.advance(1);
          if (o.kind === "sync") syncAll(nodes[o.from]!, nodes[o.to]!);
          else if (o.kind === "inject") nodes[o.to]!.merge([injected(o, hostile, values, clock.t)]);
          else if (o.kind === "put") nodes[o.node]!.put(APP, `k${o.key}`, bytes(`${o.node}`));
          else nodes[o.node]!.delete(APP, `k${o.key}`);
        }
        // Whatever was accepted, honest nodes exchange everything, then each writes.
        clock.advance(1);
        for (const from of nodes) for (const to of nodes) if (from !== to) syncAll(from, to);
        clock.advance(1);
        nodes.forEach((n, i) => {
          n.put(APP, `probe${i}`, bytes(`p${i}`));
          for (let k = 0; k < 4; k++) n.put(APP, `k${k}`, bytes(`final ${i}`));
        });
        clock.advance(1);
        for (const from of nodes) for (const to of nodes) if (from !== to) expect(deliver(from, to)).toEqual([]);
        const dump = nodes[0]!.canonicalDump();
        for (const n of nodes) expect(n.canonicalDump()).toBe(dump);
        for (const n of nodes) {
          for (let i = 0; i < HONEST; i++) expect(text(n.get(APP, `probe${i}`)?.value)).toBe(`p${i}`);
          // The final writes are concurrent and simultaneous: the greatest node id wins, everywhere.
          for (let k = 0; k < 4; k++) expect(text(n.get(APP, `k${k}`)?.value)).toBe(`final ${HONEST - 1}`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
