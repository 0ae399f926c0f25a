// What a key lease hands over (KeyRecords.wireRecords): the resource's meta record and the records
// of the versions it lists — tombstones included — and nothing of the app's other keys.
import { describe, expect, it } from "vitest";
import { HOUR, singleNode, text } from "./helpers.js";

const APP = 9n;
const keysOf = (records: unknown[]) =>
  (records as Array<{ key: string; tombstone?: boolean }>).map((r) => `${r.key}${r.tombstone ? " (deleted)" : ""}`);

describe("KeyRecords.wireRecords", () => {
  it("a key: meta and every listed version, a destroyed version as its tombstone; other keys left out", async () => {
    const { keys, records, clock } = singleNode({ destroyDelayMs: HOUR });
    for (const name of ["orders", "orders2", "other"]) await keys.create(APP, { name, purpose: "encrypt" });
    await keys.rotate(APP, "orders");
    await keys.rotate(APP, "orders");
    await keys.changeVersion(APP, "orders", 1, "destroy");
    clock.advance(HOUR);
    expect(await keys.eraseDestroyed(APP, "orders")).toBe(1);
    const sent = keysOf(records.wireRecords({ appId: APP, kind: "key", name: "orders" })).sort();
    expect(sent).toEqual(["key/orders/meta", "key/orders/v/1 (deleted)", "key/orders/v/2", "key/orders/v/3"]);
  });

  it("a secret: meta and its versions; once deleted, only the meta's tombstone", async () => {
    const { secrets, records } = singleNode();
    await secrets.put(APP, "db", text("one"));
    await secrets.put(APP, "db", text("two"));
    await secrets.put(APP, "db2", text("x"));
    const resource = { appId: APP, kind: "secret" as const, name: "db" };
    expect(keysOf(records.wireRecords(resource)).sort()).toEqual(["secret/db/meta", "secret/db/v/1", "secret/db/v/2"]);
    await secrets.delete(APP, "db");
    expect(keysOf(records.wireRecords(resource))).toEqual(["secret/db/meta (deleted)"]);
  });

  it("a resource nobody made: nothing", () => {
    const { records } = singleNode();
    expect(records.wireRecords({ appId: APP, kind: "key", name: "absent" })).toEqual([]);
  });
});
