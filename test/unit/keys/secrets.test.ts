// PROTOCOL.md §12's secrets over the real store and a single-member ClusterCommits: a version per
// put, latest or named reads, paging, delete of every version, size and name limits, isolation.
// Ported from the SecretStore tests of the old in-memory engine.
import { describe, expect, it } from "vitest";
import { KeyInputError } from "../../../enclave/keys/api.js";
import { reservedNamespaceOf } from "../../../enclave/keys/key-records.js";
import { MAX_SECRET_BYTES, SecretNotFoundError } from "../../../enclave/keys/secrets.js";
import { singleNode, text, thrown } from "./helpers.js";

const APP = 5n;

async function notFound(fn: () => unknown): Promise<string> {
  const e = await thrown(fn);
  expect(e).toBeInstanceOf(SecretNotFoundError);
  return (e as Error).message;
}

describe("Secrets", () => {
  it("versions every put and reads the latest or a given version", async () => {
    const { secrets, clock } = singleNode();
    expect(await secrets.put(APP, "db-password", text("one"))).toEqual({ name: "db-password", version: 1 });
    clock.advance(10);
    expect(await secrets.put(APP, "db-password", text("two"))).toEqual({ name: "db-password", version: 2 });
    expect(await secrets.put(APP, "other", text("o"))).toEqual({ name: "other", version: 1 });
    expect(await secrets.get(APP, "db-password")).toEqual({ name: "db-password", version: 2, value: text("two") });
    expect(await secrets.get(APP, "db-password", 1)).toEqual({ name: "db-password", version: 1, value: text("one") });
    expect(await secrets.get(APP, "db-password", 2)).toEqual({ name: "db-password", version: 2, value: text("two") });
    expect(await notFound(() => secrets.get(APP, "db-password", 3))).toBe("no version 3 of db-password");
    expect(await notFound(() => secrets.get(APP, "db-password", 0))).toBe("no version 0 of db-password");
    expect(await notFound(() => secrets.get(APP, "missing"))).toBe("no secret missing");
    // An empty value is a value.
    expect(await secrets.put(APP, "empty", new Uint8Array())).toEqual({ name: "empty", version: 1 });
    expect((await secrets.get(APP, "empty")).value).toEqual(new Uint8Array());
  });

  it("keeps one app's secrets from another (404, as if absent)", async () => {
    const { secrets } = singleNode();
    await secrets.put(APP, "s", text("mine"));
    expect(await notFound(() => secrets.get(6n, "s"))).toBe("no secret s");
    expect((await secrets.list(6n, 10)).items).toEqual([]);
    expect(await notFound(() => secrets.delete(6n, "s"))).toBe("no secret s");
    expect((await secrets.get(APP, "s")).value).toEqual(text("mine"));
  });

  it("pages names in order, each exactly once, with the latest version and its time", async () => {
    const { secrets, clock } = singleNode();
    const t0 = clock.t;
    for (const name of ["c", "a", "e", "b", "d"]) await secrets.put(APP, name, text(name));
    clock.advance(500);
    await secrets.put(APP, "a", text("a2"));
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await secrets.list(APP, 2, after);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((x) => x.name));
      if (page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    const all = await secrets.list(APP, 5);
    expect(all.nextAfter).toBeUndefined();
    expect(all.items[0]).toEqual({ name: "a", latestVersion: 2, updatedAtMs: t0 + 500 });
    expect(all.items[1]).toEqual({ name: "b", latestVersion: 1, updatedAtMs: t0 });
    const first = await secrets.list(APP, 1);
    expect(first).toEqual({ items: [{ name: "a", latestVersion: 2, updatedAtMs: t0 + 500 }], nextAfter: "a" });
  });

  it("delete removes every version: 404 after, the records are tombstones, and a second delete is 404", async () => {
    const { secrets, store } = singleNode();
    await secrets.put(APP, "k", text("v1"));
    await secrets.put(APP, "k", text("v2"));
    await secrets.put(APP, "keep", text("x"));
    expect(await secrets.delete(APP, "k")).toEqual({ name: "k", deleted: true });
    expect(await notFound(() => secrets.get(APP, "k"))).toBe("no secret k");
    expect(await notFound(() => secrets.get(APP, "k", 1))).toBe("no version 1 of k");
    expect(await notFound(() => secrets.delete(APP, "k"))).toBe("no secret k");
    const ns = reservedNamespaceOf(APP);
    for (const key of ["secret/k/meta", "secret/k/v/1", "secret/k/v/2"]) {
      expect(store.get(ns, key), key).toBeUndefined();
      expect(store.holdsKey(ns, key), key).toBe(true);
    }
    expect((await secrets.list(APP, 10)).items.map((s) => s.name)).toEqual(["keep"]);
    expect((await secrets.get(APP, "keep")).value).toEqual(text("x"));
  });

  it("holds values sealed by the store in the app's reserved namespace, never in the app's own", async () => {
    const { secrets, store } = singleNode();
    await secrets.put(APP, "k", text("a very recognisable value"));
    expect(store.keys(reservedNamespaceOf(APP))).toEqual(["secret/k/meta", "secret/k/v/1"]);
    expect(store.keys(APP)).toEqual([]);
    const dump = store.canonicalDump();
    expect(dump).not.toContain("recognisable");
    expect(dump).not.toContain(Buffer.from("a very recognisable value").toString("base64"));
  });

  it("enforces the 64 KiB value limit and the name pattern with KeyInputError", async () => {
    const { secrets, store } = singleNode();
    expect(MAX_SECRET_BYTES).toBe(64 * 1024);
    expect(await secrets.put(APP, "max", new Uint8Array(MAX_SECRET_BYTES).fill(1))).toEqual({
      name: "max",
      version: 1,
    });
    expect((await secrets.get(APP, "max")).value).toHaveLength(MAX_SECRET_BYTES);
    const head = store.head;
    await expect(secrets.put(APP, "big", new Uint8Array(65 * 1024))).rejects.toThrow(KeyInputError);
    await expect(secrets.put(APP, "big", new Uint8Array(MAX_SECRET_BYTES + 1))).rejects.toThrow(KeyInputError);
    for (const name of ["", "bad name", "a/b", "x".repeat(129)]) {
      await expect(secrets.put(APP, name, text("x")), JSON.stringify(name)).rejects.toThrow(KeyInputError);
      await expect(secrets.get(APP, name), JSON.stringify(name)).rejects.toThrow(KeyInputError);
      await expect(secrets.delete(APP, name), JSON.stringify(name)).rejects.toThrow(KeyInputError);
    }
    expect(store.head).toBe(head);
    expect(await secrets.put(APP, "x".repeat(128), text("ok"))).toEqual({ name: "x".repeat(128), version: 1 });
  });
});
