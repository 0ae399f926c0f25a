// Records that arrive by anti-entropy (digest replies, repairs) must not bring back a tombstone this
// node has already collected: the collection would start over and the tombstone would bounce
// between nodes for ever.
import { describe, expect, it } from "vitest";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { dropUnknownTombstones } from "../../../enclave/cluster/repair-filter.js";
import { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import { createLogger } from "../../../enclave/log.js";
import type { KvStore } from "../../../enclave/store/kv-store.js";
import type { WireRecord } from "../../../enclave/store/wire-format.js";
import { ManualClock, bytes, makeStore, nodeId, syncAll } from "../store/helpers.js";

const APP = 5n;

/** A holds "kept" and "gone"; B deleted "gone" and A collected that tombstone. Returns B's records. */
function afterCollection(): { a: KvStore; fromB: WireRecord[] } {
  const clock = new ManualClock();
  const a = makeStore(0, clock);
  const b = makeStore(1, clock);
  a.put(APP, "kept", bytes("k"));
  a.put(APP, "gone", bytes("g"));
  syncAll(a, b);
  b.delete(APP, "gone");
  b.put(APP, "new", bytes("n"));
  syncAll(b, a);
  expect(a.collectTombstones(a.head)).toBe(1);
  expect(a.holdsKey(APP, "gone")).toBe(false);
  return { a, fromB: b.recordsInBuckets(APP, [...Array(256).keys()]) };
}

describe("dropUnknownTombstones", () => {
  it("drops tombstones of keys not held, keeps tombstones of held keys, values, and malformed records", () => {
    const { a, fromB } = afterCollection();
    a.delete(APP, "kept");
    const collected = fromB.find((r) => r.key === "gone")!;
    expect(collected.tombstone).toBe(true);
    const heldTombstone = { ...collected, key: "kept" };
    const malformed = { tombstone: true, app_id: "0x5", key: "gone" };
    const input = [...fromB, heldTombstone, malformed, null];
    expect(dropUnknownTombstones(a, input)).toEqual(input.filter((r) => r !== collected));
  });

  it("a repair carrying a collected tombstone leaves the key collected (through the sync handler)", async () => {
    const { a, fromB } = afterCollection();
    expect(fromB.some((r) => r.key === "gone" && r.tombstone)).toBe(true);
    const handler = new SyncHandler({
      store: () => a,
      masterSecret: () => undefined,
      storeRecovered: () => true,
      log: createLogger("silent"),
    });
    const peer = { wallet: nodeId(1) } as RegisteredCaller;
    const before = a.stats();
    const reply = await handler.handle({ type: "repair", sender_wallet: nodeId(1), records: fromB as never }, peer);
    expect(reply).toMatchObject({ type: "repair_ack", counts: { inserted: 0, rejected: 0 } });
    expect(a.holdsKey(APP, "gone")).toBe(false);
    expect(a.stats()).toEqual(before);
  });
});
