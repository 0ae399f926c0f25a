import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_SECRET_BYTES, SecretNotFoundError, SecretStore } from "../../../enclave/keys/secret-store.js";

const text = (s: string) => new TextEncoder().encode(s);

function store(appId = 5n, key = new Uint8Array(32).fill(1)) {
  let now = 1_000;
  const s = new SecretStore({
    appId,
    sealingKey: () => key,
    random: async (n) => new Uint8Array(randomBytes(n)),
    now: () => now++,
  });
  return s;
}

describe("SecretStore", () => {
  it("versions every put, reads the latest or a given version, and deletes every version", async () => {
    const s = store();
    expect(await s.put("db-password", text("one"))).toEqual({ name: "db-password", version: 1 });
    expect(await s.put("db-password", text("two"))).toEqual({ name: "db-password", version: 2 });
    expect(s.get("db-password")).toMatchObject({ version: 2, value: text("two") });
    expect(s.get("db-password", 1).value).toEqual(text("one"));
    expect(() => s.get("db-password", 3)).toThrow(SecretNotFoundError);
    expect(s.delete("db-password")).toEqual({ name: "db-password", deleted: true });
    expect(() => s.get("db-password")).toThrow(SecretNotFoundError);
    expect(() => s.delete("db-password")).toThrow(SecretNotFoundError);
  });

  it("pages names in order, each exactly once, with the latest version", async () => {
    const s = store();
    for (const name of ["c", "a", "e", "b", "d"]) await s.put(name, text(name));
    await s.put("a", text("a2"));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = s.list(2, after);
      seen.push(...page.secrets.map((x) => x.name));
      if (!page.nextAfter) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    expect(s.list(1).secrets[0]).toMatchObject({ name: "a", latestVersion: 2 });
  });

  it("holds values sealed: another app's key or a moved version does not open them; limits are enforced", async () => {
    const s = store(5n);
    await s.put("k", text("value"));
    const internals = (s as unknown as { secrets: Map<string, { sealed: Uint8Array }[]> }).secrets;
    const sealed = internals.get("k")![0]!.sealed;
    expect(Buffer.from(sealed).includes(Buffer.from("value"))).toBe(false);
    const other = store(6n);
    await other.put("k", text("x"));
    (other as unknown as { secrets: Map<string, unknown[]> }).secrets.set("k", [
      { version: 1, createdAtMs: 0, sealed },
    ]);
    expect(() => other.get("k")).toThrow();
    await expect(s.put("bad name", text("x"))).rejects.toThrow(RangeError);
    await expect(s.put("big", new Uint8Array(MAX_SECRET_BYTES + 1))).rejects.toThrow(RangeError);
  });
});
