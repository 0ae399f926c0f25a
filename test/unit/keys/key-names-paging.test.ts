// Names whose store keys sort differently from the names themselves ("a.b/meta" < "a/meta") page exactly once.
import { describe, expect, it } from "vitest";
import { singleNode, text } from "./helpers.js";

describe("paging names that share a prefix", () => {
  it("NamedKeys.list pages keys whose names share a prefix ('a', 'a.b', 'a-b') each exactly once, in name order", async () => {
    const { keys } = singleNode();
    for (const name of ["a", "a.b", "a-b", "b"]) await keys.create(7n, { name, purpose: "mac" });
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await keys.list(7n, 1, after);
      seen.push(...page.items.map((k) => k.name));
      if (page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "a-b", "a.b", "b"]);
  });
  it("Secrets.list pages secrets whose names share a prefix each exactly once", async () => {
    const { secrets } = singleNode();
    for (const name of ["a", "a.b", "b"]) await secrets.put(7n, name, text(name));
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await secrets.list(7n, 1, after);
      seen.push(...page.items.map((k) => k.name));
      if (page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "a.b", "b"]);
  });
});
