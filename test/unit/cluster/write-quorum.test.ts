import { describe, expect, it } from "vitest";
import { KmsError } from "../../../enclave/errors.js";
import { parseWriteQuorum, type ReplicaProgress, WriteQuorum } from "../../../enclave/cluster/write-quorum.js";

/** Peers' acknowledged positions, set by the test; pushNow only counts. */
function progress(peers: number[], reachable = peers.length) {
  const state = { acked: peers, pushes: 0 };
  const p: ReplicaProgress = {
    peersHolding: (position) => state.acked.filter((a) => a >= position).length,
    peerCount: () => state.acked.length,
    reachablePeerCount: () => reachable,
    pushNow: () => {
      state.pushes++;
    },
  };
  return { state, p };
}

describe("WriteQuorum", () => {
  it("quorum 1 acknowledges at once, without replication", async () => {
    const { state, p } = progress([0, 0]);
    await new WriteQuorum({ setting: 1, timeoutMs: 10, progress: p }).acknowledge(5);
    expect(state.pushes).toBe(0);
  });

  it("quorum 2 waits for one peer to acknowledge the position, pushing at once", async () => {
    const { state, p } = progress([0, 0]);
    const quorum = new WriteQuorum({ setting: 2, timeoutMs: 5_000, progress: p });
    let done = false;
    const pending = quorum.acknowledge(5).then(() => (done = true));
    expect(state.pushes).toBe(1);
    expect(quorum.waiting).toBe(1);
    state.acked = [4, 0];
    quorum.notify();
    await Promise.resolve();
    expect(done).toBe(false);
    state.acked = [5, 0];
    quorum.notify();
    await pending;
    expect(quorum.waiting).toBe(0);
  });

  it("concurrent writes share one acknowledgement that covers them all", async () => {
    const { state, p } = progress([0, 0]);
    const quorum = new WriteQuorum({ setting: 2, timeoutMs: 5_000, progress: p });
    const writes = [1, 2, 3, 4].map((position) => quorum.acknowledge(position));
    state.acked = [0, 4];
    quorum.notify();
    await Promise.all(writes);
  });

  it("answers 503 insufficient_replicas at once when the cluster is smaller than the quorum", async () => {
    const { p } = progress([0]);
    const refused: number[] = [];
    const quorum = new WriteQuorum({
      setting: 3,
      timeoutMs: 5_000,
      progress: p,
      onInsufficient: () => refused.push(1),
    });
    const err = await quorum.acknowledge(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsError);
    expect(err).toMatchObject({
      status: 503,
      code: "insufficient_replicas",
      message: expect.stringMatching(/3 members .* has 2/),
    });
    expect(refused).toHaveLength(1);
  });

  it("answers 503 within the timeout when no peer acknowledges, naming how many hold it", async () => {
    const { p } = progress([0, 0]);
    const quorum = new WriteQuorum({ setting: 2, timeoutMs: 50, progress: p });
    const started = Date.now();
    const err = await quorum.acknowledge(1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "insufficient_replicas", message: expect.stringMatching(/reached 1 of the 2/) });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(quorum.waiting).toBe(0);
  });

  it('"all" waits for every reachable peer', async () => {
    const { state, p } = progress([0, 0, 0], 2);
    const quorum = new WriteQuorum({ setting: "all", timeoutMs: 5_000, progress: p });
    expect(quorum.required()).toBe(3);
    const pending = quorum.acknowledge(2);
    state.acked = [2, 0, 0];
    quorum.notify();
    expect(quorum.waiting).toBe(1);
    state.acked = [2, 2, 0];
    quorum.notify();
    await pending;
  });

  it("parses WRITE_QUORUM", () => {
    expect(parseWriteQuorum("2")).toBe(2);
    expect(parseWriteQuorum("all")).toBe("all");
    for (const bad of ["0", "-1", "two", "1.5", ""]) expect(() => parseWriteQuorum(bad)).toThrow();
  });
});
