import { describe, expect, it } from "vitest";
import {
  InvalidInputError,
  InvalidKeyError,
  KeyUnavailableError,
  QuotaExceededError,
  ValueTooLargeError,
} from "../../../enclave/store/errors.js";
import { KvStore } from "../../../enclave/store/kv-store.js";
import { ManualClock, bytes, dataKeys, makeStore, nodeId, text } from "./helpers.js";

const APP = 42n;

describe("KvStore local API", () => {
  it("puts, gets, overwrites and deletes per app namespace", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    s.put(APP, "a", bytes("one"));
    s.put(7n, "a", bytes("other app"));
    expect(text(s.get(APP, "a")?.value)).toBe("one");
    expect(text(s.get(7n, "a")?.value)).toBe("other app");
    clock.advance(5);
    const r = s.put(APP, "a", bytes("two"));
    expect(r.updatedAtMs).toBe(clock.t);
    expect(text(s.get(APP, "a")?.value)).toBe("two");
    expect(s.keys(APP)).toEqual(["a"]);
    // The position is the change-log entry replicas must acknowledge (the head, for a no-op).
    expect(s.delete(APP, "a")).toEqual({ deleted: true, position: s.head });
    expect(s.get(APP, "a")).toBeUndefined();
    expect(s.delete(APP, "a")).toEqual({ deleted: false, position: s.head });
    expect(s.get(APP, "missing")).toBeUndefined();
    expect(s.keys(APP)).toEqual([]);
    expect(text(s.get(7n, "a")?.value)).toBe("other app");
  });

  it("accepts empty values and values of exactly 1 MiB; refuses 1 MiB + 1 with a typed error", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: 8 * 1024 * 1024 } });
    s.put(APP, "empty", new Uint8Array(0));
    expect(s.get(APP, "empty")?.value.length).toBe(0);
    const big = new Uint8Array(1024 * 1024).fill(9);
    s.put(APP, "big", big);
    expect(Buffer.compare(s.get(APP, "big")!.value, big)).toBe(0);
    const err = (() => {
      try {
        s.put(APP, "too-big", new Uint8Array(1024 * 1024 + 1));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValueTooLargeError);
    expect((err as ValueTooLargeError).code).toBe("value_too_large");
    expect(s.get(APP, "too-big")).toBeUndefined();
  });

  it("validates keys by UTF-8 bytes with typed errors", () => {
    const s = makeStore(0, new ManualClock());
    s.put(APP, "k".repeat(512), bytes("x"));
    s.put(APP, "é".repeat(256), bytes("x")); // 512 bytes
    for (const bad of ["", "k".repeat(513), "é".repeat(257), "\uD800", "a\uDC00b"]) {
      try {
        s.put(APP, bad, bytes("x"));
        expect.unreachable(`accepted ${JSON.stringify(bad)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidKeyError);
        expect((e as InvalidKeyError).code).toBe("invalid_key");
      }
    }
    expect(() => s.get(APP, "")).toThrow(InvalidKeyError);
    expect(() => s.put(APP, 5 as unknown as string, bytes("x"))).toThrow(InvalidKeyError);
    expect(s.stats().liveKeys).toBe(2);
  });

  it("validates ttl, value type and app id", () => {
    const s = makeStore(0, new ManualClock());
    expect(() => s.put(APP, "k", bytes("x"), { ttlMs: -1 })).toThrow(InvalidInputError);
    expect(() => s.put(APP, "k", bytes("x"), { ttlMs: 1.5 })).toThrow(InvalidInputError);
    expect(() => s.put(APP, "k", "str" as unknown as Uint8Array)).toThrow(InvalidInputError);
    expect(() => s.put(-1n, "k", bytes("x"))).toThrow(InvalidInputError);
    expect(() => s.put(1 as unknown as bigint, "k", bytes("x"))).toThrow(InvalidInputError);
    expect(s.stats()).toMatchObject({ namespaces: 0, liveKeys: 0, head: 0 });
  });

  it("encrypts values: stored ciphertext differs from plaintext and fresh nonces differ per write", () => {
    const s = makeStore(0, new ManualClock());
    s.put(APP, "k", bytes("secret-value"));
    const first = s.changesSince(0).records[0]!;
    expect(Buffer.from(first.ciphertext, "base64").toString()).not.toContain("secret-value");
    s.put(APP, "k", bytes("secret-value"));
    const second = s.changesSince(0).records[0]!;
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(Buffer.from(second.ciphertext, "base64").length).toBe(12 + 12 + 16);
  });

  it("keeps no copy of data keys (the source caches) and maps a failing or malformed key source to a typed error", () => {
    let calls = 0;
    let broken = false;
    const keys = dataKeys();
    const s = new KvStore({
      nodeId: nodeId(0),
      dataKey: (id) => {
        calls++;
        if (id === 99n || broken) throw new Error("no master secret");
        return id === 98n ? new Uint8Array(16) : keys(id);
      },
    });
    s.put(APP, "a", bytes("1"));
    s.put(APP, "b", bytes("2"));
    expect(text(s.get(APP, "a")?.value)).toBe("1");
    expect(calls).toBe(3);
    expect(() => s.put(99n, "a", bytes("1"))).toThrow(KeyUnavailableError);
    expect(() => s.put(98n, "a", bytes("1"))).toThrow(KeyUnavailableError);
    expect(s.stats().namespaces).toBe(1);
    broken = true;
    expect(() => s.get(APP, "a")).toThrow(KeyUnavailableError);
  });

  it("keeps stats incrementally: namespaces, live keys, bytes, tombstones", () => {
    const s = makeStore(0, new ManualClock());
    s.put(APP, "a", bytes("1234"));
    s.put(APP, "b", bytes("1234"));
    s.put(1n, "c", bytes("1"));
    const st = s.stats();
    expect(st).toMatchObject({ namespaces: 2, liveKeys: 3, tombstones: 0, evictions: 0, head: 3 });
    // key + nonce + value + tag + metadata + one clock entry
    expect(s.appStats(APP).liveBytes).toBe(2 * (1 + 12 + 4 + 16 + 64 + 48));
    s.delete(APP, "a");
    expect(s.appStats(APP)).toMatchObject({ liveKeys: 1, tombstones: 1, tombstoneBytes: 1 + 64 + 48 });
    expect(s.stats()).toMatchObject({ liveKeys: 2, tombstones: 1 });
  });
});

describe("TTL", () => {
  it("is visible until 1 ms before expiry and gone at the instant and after", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    const r = s.put(APP, "t", bytes("v"), { ttlMs: 1000 });
    expect(r.expiresAtMs).toBe(clock.t + 1000);
    clock.advance(999);
    expect(text(s.get(APP, "t")?.value)).toBe("v");
    expect(s.keys(APP)).toEqual(["t"]);
    clock.advance(1);
    expect(s.get(APP, "t")).toBeUndefined();
    expect(s.keys(APP)).toEqual([]);
    clock.advance(1);
    expect(s.get(APP, "t")).toBeUndefined();
  });

  it("ttl 0 means no expiry; a rewrite without ttl clears it", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    s.put(APP, "a", bytes("1"), { ttlMs: 0 });
    s.put(APP, "b", bytes("1"), { ttlMs: 10 });
    s.put(APP, "b", bytes("2"));
    clock.advance(10 ** 9);
    expect(text(s.get(APP, "a")?.value)).toBe("1");
    expect(text(s.get(APP, "b")?.value)).toBe("2");
  });

  it("expired records become tombstones (frees the value, fixes counters) via the expiry index", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock);
    for (let i = 0; i < 50; i++) s.put(APP, `k${i}`, bytes("v"), { ttlMs: 100 + i });
    s.put(APP, "forever", bytes("v"));
    clock.advance(125);
    const st = s.stats();
    expect(st.liveKeys).toBe(25); // k26..k49 + forever; k25 expires exactly at 125
    expect(st.tombstones).toBe(26);
    // Every node converts at the same instant to the same bytes: not a change for the feed.
    expect(st.head).toBe(51);
    expect(s.changesSince(0).records.filter((r) => r.tombstone && r.ciphertext === "").length).toBe(26);
    expect(s.sweep()).toBe(0);
  });

  it("a newer write wins over an expired record, locally and when replicated", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const b = makeStore(1, clock);
    a.put(APP, "k", bytes("old"), { ttlMs: 10 });
    b.merge(a.changesSince(0).records);
    clock.advance(10);
    expect(b.get(APP, "k")).toBeUndefined();
    a.put(APP, "k", bytes("new"));
    b.merge(a.changesSince(0).records);
    expect(text(b.get(APP, "k")?.value)).toBe("new");
    expect(b.canonicalDump()).toBe(a.canonicalDump());
  });

  it("an expired record does not let an older dominated version come back", () => {
    const clock = new ManualClock();
    const a = makeStore(0, clock);
    const stale = makeStore(1, clock);
    a.put(APP, "k", bytes("v1"));
    const old = a.changesSince(0).records;
    stale.merge(old);
    a.put(APP, "k", bytes("v2"), { ttlMs: 5 });
    clock.advance(5);
    expect(a.get(APP, "k")).toBeUndefined();
    expect(a.merge(old).counts.ignored).toBe(1);
    expect(a.get(APP, "k")).toBeUndefined();
  });
});

describe("quotas and LRU eviction", () => {
  const rec = (keyLen: number, valueLen: number) => keyLen + 12 + valueLen + 16 + 64 + 48;

  it("evicts least-recently-used keys (reads refresh recency), reports and tombstones them", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock, { limits: { maxBytesPerApp: 3 * rec(1, 10) } });
    s.put(APP, "a", new Uint8Array(10));
    s.put(APP, "b", new Uint8Array(10));
    s.put(APP, "c", new Uint8Array(10));
    s.get(APP, "a"); // b is now the least recently used
    const r = s.put(APP, "d", new Uint8Array(10));
    expect(r.evicted).toEqual(["b"]);
    expect(s.get(APP, "b")).toBeUndefined();
    expect(s.keys(APP)).toEqual(["a", "c", "d"]);
    expect(s.appStats(APP)).toMatchObject({ liveKeys: 3, evictions: 1, tombstones: 1 });
    expect(s.stats().evictions).toBe(1);
    // The eviction is a replicated delete.
    const peer = makeStore(1, clock);
    peer.merge(s.changesSince(0).records);
    expect(peer.get(APP, "b")).toBeUndefined();
    expect(peer.canonicalDump()).toBe(s.canonicalDump());
  });

  it("writes refresh recency and quota counts keys too", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxKeysPerApp: 2 } });
    s.put(APP, "a", bytes("1"));
    s.put(APP, "b", bytes("1"));
    s.put(APP, "a", bytes("2"));
    expect(s.put(APP, "c", bytes("1")).evicted).toEqual(["b"]);
    expect(s.put(APP, "c", bytes("2")).evicted).toEqual([]);
    expect(s.keys(APP)).toEqual(["a", "c"]);
  });

  it("evicts several keys for a large write but never the key being written", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: 4 * rec(1, 100) } });
    for (const k of ["a", "b", "c", "d"]) s.put(APP, k, new Uint8Array(100));
    s.get(APP, "a"); // "a" becomes most recent; overwriting it must not evict it
    // One byte more than a + d can hold together, so all three others must go.
    const size = 300 + 2 * rec(1, 0) + 1;
    const r = s.put(APP, "a", new Uint8Array(size));
    expect(r.evicted).toEqual(["b", "c", "d"]);
    expect(s.get(APP, "a")?.value.length).toBe(size);
    expect(s.appStats(APP).liveBytes).toBeLessThanOrEqual(4 * rec(1, 100));
  });

  it("a record larger than the whole app quota is refused even in evict mode, changing nothing", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: 1000 } });
    s.put(APP, "a", new Uint8Array(100));
    const before = s.canonicalDump();
    expect(() => s.put(APP, "huge", new Uint8Array(2000))).toThrow(QuotaExceededError);
    expect(s.canonicalDump()).toBe(before);
    expect(s.stats()).toMatchObject({ liveKeys: 1, evictions: 0, head: 1 });
  });

  it("reject mode answers QuotaExceededError and changes nothing", () => {
    const clock = new ManualClock();
    const s = makeStore(0, clock, { overflow: "reject", limits: { maxBytesPerApp: 2 * rec(1, 10), maxKeysPerApp: 5 } });
    s.put(APP, "a", new Uint8Array(10));
    s.put(APP, "b", new Uint8Array(10));
    const before = { dump: s.canonicalDump(), stats: s.stats(), head: s.head };
    try {
      s.put(APP, "c", new Uint8Array(10));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QuotaExceededError);
      expect((e as QuotaExceededError).quota).toBe("bytes");
      expect((e as QuotaExceededError).code).toBe("quota_exceeded");
    }
    expect(() => s.put(APP, "a", new Uint8Array(11))).toThrow(QuotaExceededError);
    expect({ dump: s.canonicalDump(), stats: s.stats(), head: s.head }).toEqual(before);
    // Overwriting within quota still works.
    s.put(APP, "a", new Uint8Array(10));
    expect(s.keys(APP)).toEqual(["a", "b"]);
  });

  it("quotas are per app", () => {
    const s = makeStore(0, new ManualClock(), { overflow: "reject", limits: { maxKeysPerApp: 1 } });
    s.put(1n, "a", bytes("1"));
    s.put(2n, "a", bytes("1"));
    expect(() => s.put(1n, "b", bytes("1"))).toThrow(QuotaExceededError);
  });
});
