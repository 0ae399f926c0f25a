// LeaseTable.size reports live leases only.
import { expect, it } from "vitest";
import { LeaseTable } from "../../../enclave/cluster/key-leases.js";
it("LeaseTable.size counts only live leases (an expired lease is not counted)", () => {
  let t = 0;
  const leases = new LeaseTable(() => t);
  leases.tryGrant("7:key/k/", "0xa", "a1", 100);
  expect(leases.size).toBe(1);
  t += 100;
  expect(leases.size).toBe(0);
});
