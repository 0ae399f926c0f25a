// Acknowledged means replicated (WRITE_QUORUM=2): a write the accepting node acknowledged survives
// that node's SIGKILL right after the 2xx, deletes stay deleted, and a paused peer does not hold up
// acknowledgements that the other peer can complete. Replication rounds are slow here (3 s) on
// purpose: only the quorum's immediate push can have put a write on another node before the kill.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { fetchStatus, registerDemoApp, type NodeProcess } from "../../scripts/cluster/index.js";
import { appRequest } from "../support/app-request.js";
import { startClusterFixture, targetOf, waitForServing, type ClusterFixture } from "../support/process-cluster.js";
import { waitFor } from "../support/wait.js";

const QUORUM_TIMEOUT_MS = 2_000;
let cluster: ClusterFixture;
let nodes: NodeProcess[];
let tee: SimulatedTee;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const put = (node: NodeProcess, key: string, value: string) =>
  appRequest(targetOf(node), tee, { method: "PUT", path: "/kms/data", body: { key, value: b64(value) } });
const del = (node: NodeProcess, key: string) =>
  appRequest(targetOf(node), tee, { method: "DELETE", path: "/kms/data", body: { key } });
const get = (node: NodeProcess, key: string) =>
  appRequest(targetOf(node), tee, { method: "GET", path: `/kms/data/${encodeURIComponent(key)}` });
const valueOn = async (node: NodeProcess, key: string) => (await get(node, key)).json?.value as string | undefined;

/** SIGKILL then restart empty at the same URL (registration unchanged), waiting until it serves. */
async function crashAndRestart(index: number): Promise<void> {
  const node = nodes[index]!;
  await node.kill();
  nodes[index] = await cluster.start(node.seed, {}, node.port);
  await waitForServing(nodes[index]!.url, 60_000);
}

beforeAll(async () => {
  cluster = await startClusterFixture("write-quorum", {
    MASTER_SECRET_HEX: "7a".repeat(32),
    DATA_SYNC_INTERVAL_MS: "3000",
    WRITE_QUORUM: "2",
    WRITE_QUORUM_TIMEOUT_MS: String(QUORUM_TIMEOUT_MS),
    PEER_TIMEOUT_MS: "1500",
  });
  nodes = await Promise.all(["wq-a", "wq-b", "wq-c"].map((seed) => cluster.start(seed)));
  for (const node of nodes) await cluster.register(node);
  await Promise.all(nodes.map((n) => waitForServing(n.url, 60_000)));
  const app = await registerDemoApp(cluster.chain.admin, { seed: "wq-app" });
  tee = new SimulatedTee({ seed: app.seed });
  // Every node has seen its peers once, so a write has a quorum to reach.
  await waitFor(async () => (await put(nodes[0]!, "warm-up", "x")).status === 200, 30_000, "a first quorum write");
});

afterAll(async () => {
  await cluster?.stop();
});

describe("WRITE_QUORUM=2 with real processes", () => {
  it("a PUT acknowledged by A survives A's SIGKILL right after the 2xx: the value is on B and C", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    expect((await put(a, "survives", "acknowledged")).status).toBe(200);
    await a.kill();
    for (const node of [b, c]) {
      const value = await waitFor(() => valueOn(node, "survives"), 15_000, `the write on ${node.seed}`);
      expect(value).toBe(b64("acknowledged"));
    }
    nodes[0] = await cluster.start(a.seed, {}, a.port);
    await waitForServing(nodes[0]!.url, 60_000);
    expect(await waitFor(() => valueOn(nodes[0]!, "survives"), 30_000, "the restarted A recovering it")).toBe(
      b64("acknowledged"),
    );
  });

  it("a DELETE acknowledged by A survives A's SIGKILL: the key never comes back, not even through A's restart", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    expect((await put(a, "doomed", "v")).status).toBe(200);
    await waitFor(async () => (await valueOn(c, "doomed")) !== undefined, 15_000, "the key on C");
    expect((await del(a, "doomed")).status).toBe(200);
    await crashAndRestart(0);
    await waitFor(
      async () => (await get(b, "doomed")).status === 404 && (await get(c, "doomed")).status === 404,
      15_000,
      "the delete on B and C",
    );
    // Several sync rounds later (anti-entropy included), nobody has resurrected it.
    await new Promise((r) => setTimeout(r, 7_000));
    for (const node of nodes) expect((await get(node, "doomed")).status).toBe(404);
  });

  it("with one peer paused, writes are still acknowledged; with both paused they answer 503 and converge later", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    c.pause();
    try {
      for (let i = 0; i < 10; i++) expect((await put(a, `one-paused/${i}`, "v")).status).toBe(200);
      b.pause();
      const started = Date.now();
      const refused = await put(a, "both-paused", "outcome unknown");
      expect(refused.status).toBe(503);
      expect(refused.raw).toMatchObject({
        code: "insufficient_replicas",
        message: expect.stringMatching(/1 of the 2/),
      });
      expect(Date.now() - started).toBeLessThan(QUORUM_TIMEOUT_MS + 5_000);
      const quorum = (await fetchStatus(a.url)).kms.write_quorum;
      expect(quorum).toMatchObject({ setting: "2", required: 2, replicated: true, insufficient_total: 1 });
    } finally {
      b.resume();
      c.resume();
    }
    // Applied on A, never acknowledged, and not lost either: it reaches every node once they answer.
    for (const node of [b, c]) {
      expect(await waitFor(() => valueOn(node, "both-paused"), 20_000, `the refused write on ${node.seed}`)).toBe(
        b64("outcome unknown"),
      );
    }
  });

  it("1,000 concurrent writes while the accepting nodes are killed and restarted: no acknowledged write is lost", async () => {
    const acknowledged = new Map<string, string>();
    let next = 0;
    const writer = async () => {
      while (next < 1_000) {
        const i = next++;
        const index = i % 3;
        const node = nodes[index]!;
        const key = `chaos/${i}`;
        try {
          if ((await put(node, key, `v${i}`)).status === 200) acknowledged.set(key, b64(`v${i}`));
        } catch {
          // The node was killed mid-request: not acknowledged, so nothing is promised.
        }
      }
    };
    const chaos = async () => {
      for (const index of [0, 1, 2]) {
        await waitFor(() => next >= (index + 1) * 250, 60_000, "writes to make progress");
        await crashAndRestart(index);
      }
    };
    await Promise.all([...Array.from({ length: 8 }, writer), chaos()]);
    expect(acknowledged.size).toBeGreaterThan(500);
    for (const node of nodes) {
      await waitFor(
        async () => {
          const listed = new Set(
            (await appRequest(targetOf(node), tee, { method: "GET", path: "/kms/data" })).json?.keys,
          );
          return [...acknowledged.keys()].every((k) => listed.has(k));
        },
        60_000,
        `every acknowledged write on ${node.seed}`,
      );
    }
    for (const [key, value] of [...acknowledged].filter((_, i) => i % 50 === 0)) {
      expect(await valueOn(nodes[1]!, key)).toBe(value);
    }
  });
});
