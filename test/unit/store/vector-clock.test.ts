import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compareClocks, makeClock, mergeClocks, withEntry } from "../../../enclave/store/vector-clock.js";

const A = `0x${"a".repeat(40)}`;
const B = `0x${"b".repeat(40)}`;
const C = `0x${"c".repeat(40)}`;

describe("vector clocks", () => {
  it("orders equal, before, after and concurrent clocks", () => {
    const x = makeClock([[A, 1]]);
    const y = makeClock([[A, 2]]);
    const z = makeClock([[B, 1]]);
    expect(compareClocks(x, makeClock([[A, 1]]))).toBe("equal");
    expect(compareClocks(x, y)).toBe("before");
    expect(compareClocks(y, x)).toBe("after");
    expect(compareClocks(y, z)).toBe("concurrent");
    expect(compareClocks(makeClock([]), z)).toBe("before");
    expect(
      compareClocks(
        makeClock([
          [A, 1],
          [B, 1],
        ]),
        makeClock([[A, 1]]),
      ),
    ).toBe("after");
  });

  it("merges point-wise and is canonical (sorted keys, zeros dropped)", () => {
    const m = mergeClocks(
      makeClock([
        [B, 2],
        [A, 1],
      ]),
      makeClock([
        [A, 3],
        [C, 0],
      ]),
    );
    expect(JSON.stringify(m)).toBe(JSON.stringify({ [A]: 3, [B]: 2 }));
    expect(Object.isFrozen(m)).toBe(true);
  });

  it("a ticked entry dominates its base", () => {
    const base = makeClock([
      [A, 4],
      [B, 2],
    ]);
    expect(compareClocks(withEntry(base, B, 9), base)).toBe("after");
  });

  const clockArb = fc
    .array(fc.tuple(fc.constantFrom(A, B, C), fc.integer({ min: 0, max: 4 })), { maxLength: 3 })
    .map((e) => makeClock(e));

  it("merge is commutative, associative, idempotent and an upper bound", () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (x, y, z) => {
        const s = (c: object) => JSON.stringify(c);
        expect(s(mergeClocks(x, y))).toBe(s(mergeClocks(y, x)));
        expect(s(mergeClocks(mergeClocks(x, y), z))).toBe(s(mergeClocks(x, mergeClocks(y, z))));
        expect(s(mergeClocks(x, x))).toBe(s(x));
        expect(["after", "equal"]).toContain(compareClocks(mergeClocks(x, y), x));
      }),
    );
  });

  it("compare is antisymmetric", () => {
    const flip = { equal: "equal", before: "after", after: "before", concurrent: "concurrent" } as const;
    fc.assert(
      fc.property(clockArb, clockArb, (x, y) => {
        expect(compareClocks(y, x)).toBe(flip[compareClocks(x, y)]);
      }),
    );
  });
});
