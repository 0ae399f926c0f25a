// A change that could not start soon enough after its request began is not begun at all: its answer
// must come before the request times out, or the caller could not tell whether it happened.
import { describe, expect, it } from "vitest";
import { ClusterCommits } from "../../../enclave/cluster/key-commits.js";
import { LeaseTable } from "../../../enclave/cluster/key-leases.js";
import type { PeerInfo } from "../../../enclave/cluster/peer-directory.js";
import { createLogger } from "../../../enclave/log.js";

const PEER = { wallet: `0x${"22".repeat(20)}`, url: "http://127.0.0.1:1" } as PeerInfo;

function commits(leaseDelayMs: number, startDeadlineMs: number) {
  const leases = new LeaseTable();
  const released: string[] = [];
  const c = new ClusterCommits({
    self: `0x${"11".repeat(20)}`,
    leases,
    peers: () => [PEER],
    memberCount: () => 2,
    askLease: async () => {
      await new Promise((r) => setTimeout(r, leaseDelayMs));
      return { granted: true, records: [] };
    },
    releaseLease: async (_peer, _resource, id) => {
      released.push(id);
    },
    merge: () => {},
    replicated: async () => {},
    fresh: async () => {},
    log: createLogger("silent"),
    startDeadlineMs,
  });
  return { c, leases, released };
}

const resource = { appId: 7n, kind: "key" as const, name: "k" };

describe("ClusterCommits start deadline", () => {
  it("a lease granted after the deadline: 503, the change never runs, the lease is given back", async () => {
    const { c, leases, released } = commits(60, 20);
    let ran = false;
    await expect(
      c.commit(resource, () => {
        ran = true;
        return { value: 1, position: 1 };
      }),
    ).rejects.toMatchObject({ code: "service_unavailable" });
    expect(ran).toBe(false);
    expect(leases.size).toBe(0);
    expect(released).toHaveLength(1);
  });

  it("a lease granted in time: the change runs", async () => {
    const { c } = commits(1, 5_000);
    expect(await c.commit(resource, () => ({ value: 42, position: 1 }))).toBe(42);
  });
});
