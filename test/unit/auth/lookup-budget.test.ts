import { describe, expect, it } from "vitest";
import { LookupBudget } from "../../../enclave/auth/lookup-budget.js";

function takes(budget: LookupBudget, n: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (budget.tryTake()) granted++;
  return granted;
}

describe("LookupBudget", () => {
  it("grants a second's worth at once, then refills continuously up to that cap", () => {
    let now = 0;
    const budget = new LookupBudget(10, () => now);
    expect(takes(budget, 15)).toBe(10);
    now += 250;
    expect(takes(budget, 15)).toBe(2);
    now += 60_000;
    expect(takes(budget, 15)).toBe(10);
  });

  it("refills nothing when the clock steps back, and 0 means no limit", () => {
    let now = 10_000;
    const budget = new LookupBudget(2, () => now);
    expect(takes(budget, 2)).toBe(2);
    now -= 5_000;
    expect(takes(budget, 1)).toBe(0);
    expect(takes(new LookupBudget(0), 1_000)).toBe(1_000);
  });
});
