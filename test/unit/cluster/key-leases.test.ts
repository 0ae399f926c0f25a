// The lease table a node keeps for named-key and secret changes (cluster/key-leases.ts): one live
// holder per resource, expiry on its own (injected clock), a holder's retry replaces its own lease,
// and a release ends only the lease it names.
import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_TTL_MS, LeaseTable } from "../../../enclave/cluster/key-leases.js";
import { resourceId } from "../../../enclave/keys/key-records.js";

const A = `0x${"aa".repeat(20)}`;
const B = `0x${"bb".repeat(20)}`;
const R = resourceId({ appId: 7n, kind: "key", name: "orders" });

function table() {
  let t = 1_000_000;
  const leases = new LeaseTable(() => t);
  return { leases, advance: (ms: number) => (t += ms) };
}

describe("LeaseTable", () => {
  it("names resources per app, kind and name", () => {
    expect(R).toBe("7:key/orders/");
    expect(resourceId({ appId: 7n, kind: "secret", name: "orders" })).toBe("7:secret/orders/");
    expect(resourceId({ appId: 8n, kind: "key", name: "orders" })).toBe("8:key/orders/");
    expect(DEFAULT_LEASE_TTL_MS).toBe(10_000);
  });

  it("grants a free resource and refuses another holder while the lease is live", () => {
    const { leases } = table();
    expect(leases.tryGrant(R, A, "a1", 1_000)).toBe(true);
    expect(leases.size).toBe(1);
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(false);
    // Other resources are independent.
    expect(leases.tryGrant("7:key/other/", B, "b2", 1_000)).toBe(true);
    expect(leases.tryGrant("8:key/orders/", B, "b3", 1_000)).toBe(true);
    expect(leases.size).toBe(3);
  });

  it("lets the lease expire at exactly grant time + ttl, then grants another holder", () => {
    const { leases, advance } = table();
    expect(leases.tryGrant(R, A, "a1", 1_000)).toBe(true);
    advance(999);
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(false);
    advance(1);
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(true);
    expect(leases.tryGrant(R, A, "a2", 1_000)).toBe(false);
  });

  it("a holder asking again (a retry with a new id) replaces its own lease and its expiry", () => {
    const { leases, advance } = table();
    expect(leases.tryGrant(R, A, "a1", 1_000)).toBe(true);
    advance(900);
    expect(leases.tryGrant(R, A, "a2", 1_000)).toBe(true);
    expect(leases.size).toBe(1);
    // The renewed lease runs from the retry: still held 1,000 ms after the first grant.
    advance(500);
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(false);
    // The old id no longer ends it; the new one does.
    leases.release(R, "a1");
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(false);
    leases.release(R, "a2");
    expect(leases.size).toBe(0);
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(true);
  });

  it("release ends the lease only with the matching id, and leaves a later holder's lease alone", () => {
    const { leases, advance } = table();
    expect(leases.tryGrant(R, A, "a1", 1_000)).toBe(true);
    leases.release(R, "wrong");
    leases.release("7:key/other/", "a1");
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(false);
    leases.release(R, "a1");
    expect(leases.tryGrant(R, B, "b1", 1_000)).toBe(true);
    // A's late release of its expired lease must not end B's.
    advance(1_000);
    expect(leases.tryGrant(R, A, "a2", 1_000)).toBe(true);
    leases.release(R, "b1");
    expect(leases.tryGrant(R, B, "b2", 1_000)).toBe(false);
    leases.release(R, "a2");
    leases.release(R, "a2"); // twice is harmless
    expect(leases.tryGrant(R, B, "b2", 1_000)).toBe(true);
  });

  it("keeps working with many resources (expired leases are pruned, live ones kept)", () => {
    const { leases, advance } = table();
    for (let i = 0; i < 1_100; i++) expect(leases.tryGrant(`7:key/k${i}/`, A, `a${i}`, 100)).toBe(true);
    advance(100);
    expect(leases.tryGrant("7:key/live/", A, "live", 10_000)).toBe(true);
    expect(leases.size).toBe(1);
    expect(leases.tryGrant("7:key/live/", B, "b", 1_000)).toBe(false);
    expect(leases.tryGrant("7:key/k5/", B, "b", 1_000)).toBe(true);
  });
});
