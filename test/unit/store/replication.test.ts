import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { bytesToBase64 } from "../../../enclave/crypto/bytes.js";
import { deriveInternalKey } from "../../../enclave/crypto/kdf.js";
import { differingBuckets } from "../../../enclave/store/digest.js";
import { KvStore } from "../../../enclave/store/kv-store.js";
import { DEFAULT_MAX_CLOCK_SKEW_MS } from "../../../enclave/store/limits.js";
import type { WireRecord } from "../../../enclave/store/wire-format.js";
import { ManualClock, bytes, makeStore, nodeId, syncAll, text } from "./helpers.js";

const APP = 42n;

describe("change feed", () => {
  it("hands out increasing positions and resumes from any position", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    for (let i = 0; i < 10; i++) s.put(APP, `k${i}`, bytes(`v${i}`));
    expect(s.head).toBe(10);
    const first = s.changesSince(0, { maxRecords: 4 });
    expect(first.records.map((r) => r.key)).toEqual(["k0", "k1", "k2", "k3"]);
    expect(first).toMatchObject({ next: 4, head: 10, more: true, epoch: s.epoch });
    const rest = s.changesSince(first.next);
    expect(rest.records.map((r) => r.key)).toEqual(["k4", "k5", "k6", "k7", "k8", "k9"]);
    expect(rest).toMatchObject({ next: 10, more: false });
    // A key that changes again moves to the end and appears once.
    s.put(APP, "k2", bytes("again"));
    const after = s.changesSince(10);
    expect(after.records.map((r) => r.key)).toEqual(["k2"]);
    expect(s.changesSince(0).records.map((r) => r.key)).toEqual([
      "k0",
      "k1",
      "k3",
      "k4",
      "k5",
      "k6",
      "k7",
      "k8",
      "k9",
      "k2",
    ]);
    expect(s.changesSince(s.head)).toMatchObject({ records: [], next: s.head, more: false });
  });

  it("bounds batches by bytes, but a record larger than the bound goes alone (1 MiB replicates)", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock, { limits: { maxBytesPerApp: 8 << 20 } });
    s.put(APP, "small1", new Uint8Array(100));
    s.put(APP, "big", new Uint8Array(1 << 20).fill(3));
    s.put(APP, "small2", new Uint8Array(100));
    const b1 = s.changesSince(0, { maxBytes: 64 * 1024 });
    expect(b1.records.map((r) => r.key)).toEqual(["small1"]);
    const b2 = s.changesSince(b1.next, { maxBytes: 64 * 1024 });
    expect(b2.records.map((r) => r.key)).toEqual(["big"]);
    const b3 = s.changesSince(b2.next, { maxBytes: 64 * 1024 });
    expect(b3.records.map((r) => r.key)).toEqual(["small2"]);
    expect(b3.more).toBe(false);
    const peer = makeStore(1, clock, { limits: { maxBytesPerApp: 8 << 20 } });
    const json = JSON.parse(JSON.stringify(b2.records)) as WireRecord[];
    expect(peer.merge(json).counts.inserted).toBe(1);
    expect(peer.get(APP, "big")?.value.length).toBe(1 << 20);
  });

  it("batches of more than one record stay within maxBytes of JSON, whatever the keys contain", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.string({ minLength: 1, maxLength: 40, unit: "binary" }), size: fc.nat(3000) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 500, max: 20_000 }),
        (writes, maxBytes) => {
          const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: 1 << 24 } });
          const keys = new Set<string>();
          for (const w of writes) {
            if (Buffer.from(w.key).toString() !== w.key) continue; // lone surrogates are refused
            s.put(APP, w.key, new Uint8Array(w.size));
            keys.add(w.key);
          }
          let pos = 0;
          const seen = new Set<string>();
          for (;;) {
            const batch = s.changesSince(pos, { maxBytes });
            if (batch.records.length > 1)
              expect(Buffer.byteLength(JSON.stringify(batch.records))).toBeLessThanOrEqual(maxBytes);
            for (const r of batch.records) seen.add(r.key);
            pos = batch.next;
            if (!batch.more) break;
            expect(batch.records.length).toBeGreaterThan(0);
          }
          expect(seen).toEqual(keys);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a new store instance has a new epoch (positions do not carry over)", () => {
    const clock = new ManualClock();
    expect(makeStore(0, clock).changesSince(0).epoch).not.toBe(makeStore(0, clock).changesSince(0).epoch);
    expect(makeStore(0, clock, { epoch: "fixed" }).changesSince(0).epoch).toBe("fixed");
  });

  it("stays ordered when log slots are compacted after many overwrites", () => {
    const s = makeStore(0, new ManualClock());
    for (let i = 0; i < 5000; i++) s.put(APP, `k${i % 10}`, bytes(String(i)));
    const all = s.changesSince(0).records;
    expect(all.map((r) => r.key)).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"]);
    expect(s.changesSince(4995).records.map((r) => r.key)).toEqual(["k5", "k6", "k7", "k8", "k9"]);
  });
});

describe("snapshot (the change feed paged from 0)", () => {
  it("pages the whole store including tombstones; a new node recovers it exactly", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    for (let i = 0; i < 25; i++) s.put(BigInt(i % 3), `k${i}`, bytes(`v${i}`));
    s.delete(0n, "k0");
    const fresh = makeStore(1, clock);
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const page = s.changesSince(cursor, { maxBytes: 2000 });
      fresh.merge(page.records);
      pages++;
      cursor = page.next;
      if (!page.more) break;
    }
    expect(pages).toBeGreaterThan(2);
    expect(fresh.canonicalDump()).toBe(s.canonicalDump());
    expect(fresh.get(0n, "k0")).toBeUndefined();
    expect(text(fresh.get(1n, "k1")?.value)).toBe("v1");
  });
});

describe("digests and anti-entropy", () => {
  it("equal stores have equal digests; differing buckets locate the difference", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock, { digestBuckets: 16 });
    const b = makeStore(1, clock, { digestBuckets: 16 });
    for (let i = 0; i < 40; i++) a.put(APP, `k${i}`, bytes(`v${i}`));
    syncAll(a, b);
    expect(b.digest(APP)).toEqual(a.digest(APP));
    a.put(APP, "k7", bytes("changed"));
    a.delete(APP, "k9");
    const diff = b.diffDigest(a.digest(APP));
    expect(diff.length).toBeGreaterThanOrEqual(1);
    expect(diff.length).toBeLessThanOrEqual(2);
    const records = a.recordsInBuckets(APP, diff);
    expect(records.map((r) => r.key)).toEqual(expect.arrayContaining(["k7", "k9"]));
    b.merge(records);
    expect(differingBuckets(a.digest(APP), b.digest(APP))).toEqual([]);
    expect(b.canonicalDump()).toBe(a.canonicalDump());
  });

  it("app roots name exactly the apps whose contents differ", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    for (let i = 0; i < 30; i++) a.put(BigInt(i % 3), `k${i}`, bytes(String(i)));
    syncAll(a, b);
    expect(b.appRoots()).toEqual(a.appRoots());
    expect(Object.keys(a.appRoots())).toEqual(["0", "1", "2"]);
    expect(a.appIds()).toEqual([0n, 1n, 2n]);
    a.put(1n, "k1", bytes("changed"));
    const ra = a.appRoots();
    const rb = b.appRoots();
    expect(Object.keys(ra).filter((app) => ra[app] !== rb[app])).toEqual(["1"]);
  });

  it("digest of an unknown app is all-zero buckets and changes when a key is written", () => {
    const s = makeStore(0, new ManualClock(), { digestBuckets: 4 });
    const empty = s.digest(5n);
    expect(empty.hashes).toHaveLength(4);
    s.put(5n, "x", bytes("1"));
    expect(s.digest(5n).hashes).not.toEqual(empty.hashes);
    s.delete(5n, "x");
    expect(s.appIds()).toEqual([5n]);
    s.collectTombstones(s.head);
    expect(s.digest(5n).hashes).toEqual(empty.hashes);
    expect(s.appIds()).toEqual([]);
  });
});

describe("merge", () => {
  function recordFrom(store: KvStore, key = "k"): WireRecord {
    return store.changesSince(0).records.find((r) => r.key === key)!;
  }

  it("reports inserted, replaced, ignored and concurrent", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    const c = makeStore(2, clock);
    a.put(APP, "k", bytes("1"));
    const r1 = recordFrom(a);
    expect(c.merge([r1, r1]).outcomes.map((o) => o.status)).toEqual(["inserted", "ignored"]);
    a.put(APP, "k", bytes("2"));
    const r2 = recordFrom(a);
    expect(c.merge([r2]).outcomes[0]).toEqual({ appId: "42", key: "k", status: "replaced" });
    expect(c.merge([r1]).outcomes[0]!.status).toBe("ignored");
    clock.advance(1);
    b.put(APP, "k", bytes("b"));
    expect(c.merge([recordFrom(b)]).outcomes[0]!.status).toBe("concurrent");
    // b wrote later (wall clock), so its concurrent version is the visible one, on every node.
    expect(text(c.get(APP, "k")?.value)).toBe("b");
    a.merge(c.changesSince(0).records);
    expect(text(a.get(APP, "k")?.value)).toBe("b");
    // A local write joins the siblings and dominates both.
    a.put(APP, "k", bytes("joined"));
    c.merge(a.changesSince(0).records);
    expect(c.changesSince(0).records.filter((r) => r.key === "k")).toHaveLength(1);
    expect(text(c.get(APP, "k")?.value)).toBe("joined");
    expect(c.canonicalDump()).toBe(a.canonicalDump());
  });

  it("resolves concurrent writes by timestamp, then origin, then ciphertext — same on every node", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    a.put(APP, "k", bytes("from-a"));
    b.put(APP, "k", bytes("from-b")); // same instant: greater origin (node 1) wins
    const ra = recordFrom(a);
    const rb = recordFrom(b);
    a.merge([rb]);
    b.merge([ra]);
    expect(text(a.get(APP, "k")?.value)).toBe("from-b");
    expect(text(b.get(APP, "k")?.value)).toBe("from-b");
    expect(a.canonicalDump()).toBe(b.canonicalDump());
  });

  it("rejects malformed records with reasons and changes nothing", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    a.put(APP, "k", bytes("v"));
    const good = recordFrom(a);
    const b = makeStore(1, clock);
    const bad: [unknown, string][] = [
      [null, "malformed"],
      [{ ...good, v: 2 }, "unsupported_version"],
      [{ ...good, app_id: "-1" }, "invalid_app_id"],
      [{ ...good, app_id: "0x2a" }, "invalid_app_id"],
      [{ ...good, key: "" }, "invalid_key"],
      [{ ...good, key: "x".repeat(513) }, "invalid_key"],
      [{ ...good, clock: {} }, "invalid_clock"],
      [{ ...good, clock: { [nodeId(0)]: 0 } }, "invalid_clock"],
      [{ ...good, clock: { "0xABC": 1 } }, "invalid_clock"],
      [{ ...good, origin: nodeId(5) }, "invalid_clock"],
      [{ ...good, updated_at_ms: -5 }, "invalid_timestamp"],
      [{ ...good, updated_at_ms: clock.t + DEFAULT_MAX_CLOCK_SKEW_MS + 1 }, "future_timestamp"],
      [{ ...good, ttl_ms: 1.5 }, "invalid_ttl"],
      [{ ...good, tombstone: "no" }, "malformed"],
      [{ ...good, tombstone: true }, "invalid_ciphertext"],
      [{ ...good, ciphertext: "***" }, "invalid_ciphertext"],
      [{ ...good, ciphertext: bytesToBase64(new Uint8Array(10)) }, "invalid_ciphertext"],
      [{ ...good, ciphertext: bytesToBase64(new Uint8Array((1 << 20) + 29)) }, "value_too_large"],
      [{ ...good, key: "other" }, "decrypt_failed"],
      [{ ...good, app_id: "43" }, "decrypt_failed"],
    ];
    const res = b.merge(bad.map(([r]) => r));
    expect(res.outcomes.map((o) => o.reason)).toEqual(bad.map(([, reason]) => reason));
    expect(res.counts.rejected).toBe(bad.length);
    expect(b.stats()).toMatchObject({ liveKeys: 0, tombstones: 0, head: 0 });
    // Within the skew window it is accepted.
    expect(b.merge([{ ...good, updated_at_ms: clock.t + DEFAULT_MAX_CLOCK_SKEW_MS }]).counts.rejected).toBe(0);
  });

  it("refuses a value sealed under another master secret", () => {
    const clock = new ManualClock();
    const other = new KvStore({
      nodeId: nodeId(3),
      now: clock.now,
      dataKey: (id) => deriveInternalKey(new Uint8Array(32).fill(1), { kind: "kv-data", appId: id }),
    });
    other.put(APP, "k", bytes("v"));
    const b = makeStore(1, clock);
    expect(b.merge(other.changesSince(0).records).outcomes[0]!.reason).toBe("decrypt_failed");
  });

  it("merging a record that carries our own clock entry lifts our counter (writes after restart dominate)", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    for (let i = 0; i < 5; i++) a.put(APP, "k", bytes(String(i)));
    const peer = makeStore(1, clock);
    peer.merge(a.changesSince(0).records);
    peer.delete(APP, "k");
    const restarted = makeStore(0, clock); // same wallet, empty memory
    restarted.merge(peer.changesSince(0).records);
    restarted.put(APP, "k", bytes("after-restart"));
    peer.merge(restarted.changesSince(0).records);
    expect(text(peer.get(APP, "k")?.value)).toBe("after-restart");
  });
});

describe("tombstones", () => {
  it("a delete is never undone by the older write it superseded", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    a.put(APP, "k", bytes("v"));
    const write = a.changesSince(0).records;
    b.merge(write);
    clock.advance(1);
    b.delete(APP, "k");
    const del = b.changesSince(0).records;
    a.merge(del);
    expect(a.get(APP, "k")).toBeUndefined();
    expect(a.merge(write).counts.ignored).toBe(1);
    const c = makeStore(2, clock);
    c.merge([...del, ...write]);
    expect(c.get(APP, "k")).toBeUndefined();
    expect(c.canonicalDump()).toBe(a.canonicalDump());
  });

  it("the delete wins even when its wall clock is behind the write (causality first)", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const slow = new ManualClock(clock.t - 10_000);
    const b = makeStore(1, slow);
    a.put(APP, "k", bytes("v"));
    b.merge(a.changesSince(0).records, { now: clock.t });
    b.delete(APP, "k");
    a.merge(b.changesSince(0).records);
    expect(a.get(APP, "k")).toBeUndefined();
  });

  it("are collected only up to the acknowledged position, and only when dead", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    s.put(APP, "a", bytes("1")); // seq 1
    s.put(APP, "b", bytes("1")); // seq 2
    s.delete(APP, "a"); // seq 3
    s.delete(APP, "b"); // seq 4
    s.put(APP, "c", bytes("1")); // seq 5
    expect(s.stats().tombstones).toBe(2);
    expect(s.collectTombstones(2)).toBe(0);
    expect(s.collectTombstones(3)).toBe(1);
    expect(s.stats()).toMatchObject({ tombstones: 1, liveKeys: 1 });
    expect(s.changesSince(0).records.map((r) => r.key)).toEqual(["b", "c"]);
    expect(s.collectTombstones(s.head)).toBe(1);
    expect(s.stats()).toMatchObject({ tombstones: 0, tombstoneBytes: 0, liveKeys: 1 });
    expect(() => s.collectTombstones(-1)).toThrow();
  });

  it("collects a deleted key together with a concurrent value that lost to the delete", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    a.put(APP, "k", bytes("base"));
    b.merge(a.changesSince(0).records);
    a.put(APP, "k", bytes("concurrent"));
    clock.advance(1);
    b.delete(APP, "k"); // concurrent with a's second write, and later: the delete is visible
    a.merge(b.changesSince(0).records);
    expect(a.changesSince(0).records.filter((r) => r.key === "k")).toHaveLength(2);
    expect(a.get(APP, "k")).toBeUndefined();
    expect(a.stats()).toMatchObject({ liveKeys: 0, tombstones: 1 });
    expect(a.collectTombstones(a.head)).toBe(1);
    expect(a.stats()).toMatchObject({ liveKeys: 0, tombstones: 0, liveBytes: 0, tombstoneBytes: 0 });
  });
});
