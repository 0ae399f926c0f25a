// Reserved namespaces (ids ≥ 2^256, where the node keeps an app's named keys and secrets): they are
// never evicted — a full one refuses the write — while an ordinary app namespace evicts its least
// recently used key; namespace ids are accepted up to 2^257 - 1.
import { describe, expect, it } from "vitest";
import { InvalidInputError, QuotaExceededError } from "../../../enclave/store/errors.js";
import {
  checkAppId,
  isReservedNamespace,
  NAMESPACE_ID_MAX,
  RESERVED_NAMESPACE_BASE,
} from "../../../enclave/store/limits.js";
import { reservedNamespaceOf } from "../../../enclave/keys/key-records.js";
import { bytes, ManualClock, makeStore, text } from "./helpers.js";

const RESERVED = 2n ** 256n + 5n;
const APP = 5n;

describe("reserved namespaces", () => {
  it("are 2^256 + app id", () => {
    expect(RESERVED_NAMESPACE_BASE).toBe(2n ** 256n);
    expect(reservedNamespaceOf(APP)).toBe(RESERVED);
    expect(isReservedNamespace(2n ** 256n - 1n)).toBe(false);
    expect(isReservedNamespace(2n ** 256n)).toBe(true);
  });

  it("refuse the write beyond the key quota instead of evicting; an app namespace evicts", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxKeysPerApp: 3 } });
    for (const k of ["a", "b", "c"]) {
      s.put(RESERVED, k, bytes(k));
      s.put(APP, k, bytes(k));
    }
    const head = s.head;
    let refused: unknown;
    try {
      s.put(RESERVED, "d", bytes("d"));
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(QuotaExceededError);
    expect((refused as QuotaExceededError).quota).toBe("keys");
    expect(s.head).toBe(head);
    expect(s.keys(RESERVED)).toEqual(["a", "b", "c"]);
    expect(s.appStats(RESERVED)).toMatchObject({ liveKeys: 3, evictions: 0, tombstones: 0 });
    for (const k of ["a", "b", "c"]) expect(text(s.get(RESERVED, k)?.value)).toBe(k);
    // Overwriting a held key and writing after a delete still work.
    expect(s.put(RESERVED, "a", bytes("a2")).evicted).toEqual([]);
    s.delete(RESERVED, "b");
    expect(s.put(RESERVED, "d", bytes("d")).evicted).toEqual([]);
    expect(s.keys(RESERVED)).toEqual(["a", "c", "d"]);
    // The ordinary namespace evicts its least recently used key.
    const r = s.put(APP, "d", bytes("d"));
    expect(r.evicted).toEqual(["a"]);
    expect(s.keys(APP)).toEqual(["b", "c", "d"]);
    expect(s.appStats(APP)).toMatchObject({ liveKeys: 3, evictions: 1, tombstones: 1 });
  });

  it("refuse the write beyond the byte quota instead of evicting", () => {
    const s = makeStore(0, new ManualClock(), { limits: { maxBytesPerApp: 600 } });
    s.put(RESERVED, "a", new Uint8Array(200));
    s.put(APP, "a", new Uint8Array(200));
    expect(() => s.put(RESERVED, "b", new Uint8Array(200))).toThrow(QuotaExceededError);
    expect(s.keys(RESERVED)).toEqual(["a"]);
    expect(s.put(APP, "b", new Uint8Array(200)).evicted).toEqual(["a"]);
  });

  it("namespace ids: 0 .. 2^257 - 1 are accepted, 2^257 and negatives refused", () => {
    expect(NAMESPACE_ID_MAX).toBe(2n ** 257n - 1n);
    expect(checkAppId(0n)).toBe(0n);
    expect(checkAppId(2n ** 257n - 1n)).toBe(2n ** 257n - 1n);
    expect(() => checkAppId(2n ** 257n)).toThrow(InvalidInputError);
    expect(() => checkAppId(-1n)).toThrow(InvalidInputError);
    expect(() => checkAppId(5)).toThrow(InvalidInputError);
    const s = makeStore(0, new ManualClock());
    s.put(2n ** 257n - 1n, "k", bytes("v"));
    expect(text(s.get(2n ** 257n - 1n, "k")?.value)).toBe("v");
    expect(() => s.put(2n ** 257n, "k", bytes("v"))).toThrow(InvalidInputError);
    // Anti-entropy names the largest id in decimal (78 digits) and compares it like any other.
    const peer = makeStore(1, new ManualClock());
    expect(peer.diffDigest(s.digest(2n ** 257n - 1n))).toHaveLength(1);
    expect(Object.keys(s.appRoots())).toEqual([(2n ** 257n - 1n).toString()]);
  });
});

describe("store stats", () => {
  it("appData leaves the reserved namespaces out; the totals keep them", () => {
    const s = makeStore(1, new ManualClock());
    s.put(5n, "kv", new Uint8Array(10));
    s.put(RESERVED_NAMESPACE_BASE + 5n, "key/k/meta", new Uint8Array(20));
    s.put(RESERVED_NAMESPACE_BASE + 5n, "key/k/v/1", new Uint8Array(30));
    const stats = s.stats();
    expect(stats).toMatchObject({ namespaces: 2, liveKeys: 3 });
    expect(stats.appData.namespaces).toBe(1);
    expect(stats.appData.liveKeys).toBe(1);
    expect(stats.appData.liveBytes).toBe(s.appStats(5n).liveBytes);
  });
});
