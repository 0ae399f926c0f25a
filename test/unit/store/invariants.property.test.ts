// Incrementally maintained state (stats counters, digest buckets, expiry index, change log) must equal
// what a from-scratch recount gives, after any mix of writes, deletes, merges, expiry and collection.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ExpiryIndex } from "../../../enclave/store/expiry-index.js";
import { pooledNonceSource } from "../../../enclave/store/sealing.js";
import { ManualClock, makeStore, syncAll } from "./helpers.js";

type Op =
  | { k: "put"; n: number; key: number; size: number; ttl: number }
  | { k: "del"; n: number; key: number }
  | { k: "get"; n: number; key: number }
  | { k: "sync"; from: number; to: number }
  | { k: "tick"; ms: number }
  | { k: "collect"; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("put" as const),
    n: fc.nat(1),
    key: fc.nat(9),
    size: fc.nat(300),
    ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
  }),
  fc.record({ k: fc.constant("del" as const), n: fc.nat(1), key: fc.nat(9) }),
  fc.record({ k: fc.constant("get" as const), n: fc.nat(1), key: fc.nat(9) }),
  fc.record({ k: fc.constant("sync" as const), from: fc.nat(1), to: fc.nat(1) }),
  fc.record({ k: fc.constant("tick" as const), ms: fc.nat(30) }),
  fc.record({ k: fc.constant("collect" as const), n: fc.nat(1) }),
);

describe("incremental bookkeeping (property)", () => {
  it("stats and digests equal a recount from the records", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const clock = new ManualClock();
        const nodes = [0, 1].map((i) =>
          makeStore(i, clock, { digestBuckets: 8, limits: { maxBytesPerApp: 1500, maxKeysPerApp: 6 } }),
        );
        let evictions = 0;
        for (const op of ops) {
          if (op.k === "put")
            evictions += nodes[op.n]!.put(3n, `k${op.key}`, new Uint8Array(op.size), { ttlMs: op.ttl }).evicted.length;
          else if (op.k === "del") nodes[op.n]!.delete(3n, `k${op.key}`);
          else if (op.k === "get") nodes[op.n]!.get(3n, `k${op.key}`);
          else if (op.k === "sync") syncAll(nodes[op.from]!, nodes[op.to]!);
          else if (op.k === "tick") clock.advance(op.ms);
          else nodes[op.n]!.collectTombstones(nodes[op.n]!.head);
        }
        let evictionsSeen = 0;
        for (const node of nodes) {
          const records = node.changesSince(0, { maxRecords: 1e6, maxBytes: 1e9 }).records;
          const byKey = new Map<string, typeof records>();
          for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
          let liveKeys = 0;
          let liveBytes = 0;
          let tombstones = 0;
          for (const [key, versions] of byKey) {
            const bytes = versions.reduce(
              (n, v) =>
                n +
                Buffer.byteLength(key) +
                Buffer.from(v.ciphertext, "base64").length +
                64 +
                48 * Object.keys(v.clock).length,
              0,
            );
            // The first record of a key is its visible version; expired ones are already tombstones.
            const top = versions[0]!;
            const expired = top.ttl_ms > 0 && clock.t >= top.updated_at_ms + top.ttl_ms;
            expect(expired).toBe(false);
            if (top.tombstone) tombstones++;
            else {
              liveKeys++;
              liveBytes += bytes;
            }
          }
          const st = node.stats();
          expect({ liveKeys: st.liveKeys, liveBytes: st.liveBytes, tombstones: st.tombstones }).toEqual({
            liveKeys,
            liveBytes,
            tombstones,
          });
          expect(node.keys(3n)).toEqual(
            [...byKey]
              .filter(([, v]) => !v[0]!.tombstone)
              .map(([k]) => k)
              .sort(),
          );
          // Recomputed digest: a fresh replica built from the records.
          const fresh = makeStore(5, clock, { digestBuckets: 8 });
          fresh.merge(records);
          expect(fresh.digest(3n)).toEqual(node.digest(3n));
          evictionsSeen += st.evictions;
        }
        expect(evictionsSeen).toBe(evictions);
      }),
      { numRuns: 150 },
    );
  });
});

describe("expiry index", () => {
  it("pops due entries earliest first and compacts", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), fc.integer({ min: 0, max: 1000 }), (ats, now) => {
        const idx = new ExpiryIndex<number>();
        for (const [i, at] of ats.entries()) idx.push(at, i);
        idx.compact((i) => i % 3 !== 0);
        const kept = ats.map((at, i) => ({ at, i })).filter(({ i }) => i % 3 !== 0);
        const due = idx.popDue(now);
        expect(due.map((i) => ats[i]!)).toEqual(
          kept
            .filter((e) => e.at <= now)
            .map((e) => e.at)
            .sort((a, b) => a - b),
        );
        expect(idx.size).toBe(kept.filter((e) => e.at > now).length);
      }),
    );
  });
});

describe("pooled nonces", () => {
  it("never repeats and refills across the pool boundary", () => {
    const next = pooledNonceSource(64);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = next(12);
      expect(n.length).toBe(12);
      seen.add(Buffer.from(n).toString("hex"));
    }
    expect(seen.size).toBe(1000);
  });
});
