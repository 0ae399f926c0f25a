// Three real node processes on a real chain: one secret, replication, crash and pause recovery,
// concurrent writes, deletes that stay deleted, large values.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kmsRegistryAbi } from "../../enclave/chain/abi/kmsRegistry.js";
import { InstanceStatus } from "../../enclave/chain/types.js";
import type { MemberEntry } from "../../enclave/protocol/views.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { registerDemoApp, type NodeProcess } from "../../scripts/cluster/index.js";
import { appRequest } from "../support/app-request.js";
import { getNodes, getStatus, waitFor } from "../support/kms-harness.js";
import { startClusterFixture, targetOf, waitForServing, type ClusterFixture } from "../support/process-cluster.js";

let cluster: ClusterFixture;
let a: NodeProcess, b: NodeProcess, c: NodeProcess;
let tee: SimulatedTee;
/** A member that was started once and then stopped without leaving the registry. */
let departedInstanceId: bigint;

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
const put = (node: NodeProcess, key: string, value: string | Uint8Array) =>
  appRequest(targetOf(node), tee, { method: "PUT", path: "/kms/data", body: { key, value: b64(value) } });
const del = (node: NodeProcess, key: string) =>
  appRequest(targetOf(node), tee, { method: "DELETE", path: "/kms/data", body: { key } });
const get = (node: NodeProcess, key: string) =>
  appRequest(targetOf(node), tee, { method: "GET", path: `/kms/data/${encodeURIComponent(key)}` });
const list = async (node: NodeProcess) =>
  (await appRequest(targetOf(node), tee, { method: "GET", path: "/kms/data" })).json?.keys as string[];

/** Whether a process is stopped (SIGSTOP has taken effect): state "T" in /proc/<pid>/stat. */
function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

/** `node`'s replication state for `peer`, as its /nodes shows it. */
async function syncStateOf(node: NodeProcess, peer: NodeProcess) {
  const entry = (await getNodes(node.url)).nodes.find((n) => n.wallet === peer.wallet);
  if (!entry) throw new Error(`${node.seed} does not list ${peer.seed}`);
  return entry;
}

/**
 * A sync with the member started after `since` and has not succeeded. (Not "no error": a push that
 * was already hanging when the member stopped fails at the timeout and leaves `last_error` set while
 * the next attempt hangs in turn — a busy machine makes that ordering likely.)
 */
function pushPendingSince(entry: MemberEntry, since: number): boolean {
  const attempt = entry.last_sync_attempt_ms ?? 0;
  return attempt > since && (entry.last_sync_ok_ms ?? 0) < attempt;
}

/** Waits until `peer` has acknowledged everything in `node`'s change log (its sync_lag is 0). */
const acknowledged = (node: NodeProcess, peer: NodeProcess) =>
  waitFor(async () => (await syncStateOf(node, peer)).sync_lag === 0, 15_000, `${peer.seed} acknowledged ${node.seed}`);

/**
 * Waits until every node has completed `count` more successful syncs with every other one (counted
 * from the distinct `last_sync_ok_ms` values it reports). Anti-entropy runs every fifth round, so
 * 11 completed syncs per pair include at least one digest exchange per pair.
 */
async function syncsComplete(nodes: NodeProcess[], count: number): Promise<void> {
  const since = Date.now();
  const seen = new Map<string, Set<number>>();
  await waitFor(
    async () => {
      for (const node of nodes) {
        for (const peer of nodes) {
          if (peer === node) continue;
          const ok = (await syncStateOf(node, peer)).last_sync_ok_ms;
          const key = `${node.seed}→${peer.seed}`;
          if (!seen.has(key)) seen.set(key, new Set());
          if (typeof ok === "number" && ok > since) seen.get(key)!.add(ok);
        }
      }
      return [...seen.values()].every((times) => times.size >= count);
    },
    30_000,
    `${count} completed syncs between every pair`,
  );
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  // A long peer timeout makes a paused peer hang each push to it for seconds, so the pause test
  // shows that one stuck peer does not hold up replication to the others.
  cluster = await startClusterFixture("replication", { PEER_TIMEOUT_MS: "5000" });
  // Started and registered together, with no preset secret: they race to bootstrap it.
  [a, b, c] = (await Promise.all(["rep-a", "rep-b", "rep-c"].map((seed) => cluster.start(seed)))) as [
    NodeProcess,
    NodeProcess,
    NodeProcess,
  ];
  for (const node of [a, b, c]) await cluster.register(node);
  await Promise.all([a, b, c].map((n) => waitForServing(n.url, 60_000)));
  const app = await registerDemoApp(cluster.chain.admin, { seed: "rep-app" });
  tee = new SimulatedTee({ seed: app.seed });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("bootstrap", () => {
  it("ends with exactly one secret that every node serves, and the same keys everywhere", async () => {
    const onChain = await cluster.chain.reader.masterSecretHash();
    for (const node of [a, b, c]) {
      expect((await getStatus(node.url)).kms.master_secret.on_chain_hash).toBe(onChain);
    }
    const keys = await Promise.all(
      [a, b, c].map(
        async (n) =>
          (await appRequest(targetOf(n), tee, { method: "POST", path: "/kms/derive", body: { path: "k" } })).json.key,
      ),
    );
    expect(new Set(keys).size).toBe(1);
    const cas = await Promise.all([a, b, c].map(async (n) => (await fetch(`${n.url}/kms/ca`)).text()));
    expect(new Set(cas).size).toBe(1);
  });

  it("a node started later adopts the secret from a peer and derives the same keys", async () => {
    const late = await cluster.start("rep-late");
    departedInstanceId = await cluster.register(late);
    await waitForServing(late.url, 30_000);
    const lateStatus = await getStatus(late.url);
    expect(lateStatus.kms.master_secret.origin).toBe("peer");
    // The reference's words for it, naming the peer that handed the secret over.
    expect(lateStatus.node.master_secret.state).toBe("synced");
    expect([a.url, b.url, c.url]).toContain(lateStatus.node.master_secret.synced_from);
    const [k1, k2] = await Promise.all(
      [a, late].map(
        async (n) =>
          (await appRequest(targetOf(n), tee, { method: "POST", path: "/kms/derive", body: { path: "k" } })).json.key,
      ),
    );
    expect(k2).toBe(k1);
    await late.stop();
  });
});

describe("replication", () => {
  it("a write on A is readable on B and C once they have acknowledged A's log", async () => {
    expect((await put(a, "fresh", "hello")).status).toBe(200);
    for (const node of [b, c]) {
      await acknowledged(a, node);
      expect((await get(node, "fresh")).json?.value).toBe(b64("hello"));
    }
  });

  it("a 1 MiB value replicates", async () => {
    const mib = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 256);
    expect((await put(a, "mib", mib)).status).toBe(200);
    await waitFor(async () => (await get(c, "mib")).json?.value === b64(mib), 15_000, "1 MiB on C");
  });

  it("concurrent writes of one key on A and B end with the same value everywhere", async () => {
    await Promise.all([put(a, "contended", "from-a"), put(b, "contended", "from-b")]);
    const values = await waitFor(
      async () => {
        const seen = await Promise.all([a, b, c].map(async (n) => (await get(n, "contended")).json?.value));
        return seen.every((v) => v !== undefined && v === seen[0]) ? seen : undefined;
      },
      10_000,
      "agreement on the contended key",
    );
    expect([b64("from-a"), b64("from-b")]).toContain(values[0]);
  });

  it("C killed while 1,000 keys are written, restarted empty, recovers all of them", async () => {
    await c.kill();
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk/${i}`);
    await inParallel(keys, 16, async (key) => expect((await put(a, key, key)).status).toBe(200));
    c = await cluster.start("rep-c", {}, c.port); // same identity, URL and registration; empty memory
    await waitForServing(c.url, 30_000);
    // Serving, but until its snapshot from a peer is in, C answers 503 (the SDK tries another node),
    // never a false "not found".
    const seen = new Set<number>();
    await waitFor(
      async () => {
        const status = (await get(c, "bulk/0")).status;
        seen.add(status);
        return status === 200;
      },
      30_000,
      "bulk/0 on the restarted C",
    );
    expect(seen.has(404)).toBe(false);
    await waitFor(
      async () => (await list(c))?.filter((k) => k.startsWith("bulk/")).length === 1000,
      30_000,
      "1,000 keys on C",
    );
    expect((await get(c, "bulk/999")).json.value).toBe(b64("bulk/999"));
  });

  it("C paused while writes and deletes happen converges after resume, and deleted keys never come back", async () => {
    expect((await put(a, "doomed", "x")).status).toBe(200);
    for (const node of [b, c])
      await waitFor(async () => (await get(node, "doomed")).status === 200, 10_000, `doomed on ${node.seed}`);
    c.pause();
    try {
      await waitFor(() => isStopped(c.pid), 5_000, "C stopped");
      const stoppedAt = Date.now();
      expect((await put(a, "while-c-hangs", "w")).status).toBe(200);
      // A's push of that write to C started after C stopped, and hangs (until PEER_TIMEOUT_MS, 5 s).
      const hanging = await waitFor(
        async () => {
          const toC = await syncStateOf(a, c);
          return pushPendingSince(toC, stoppedAt) && toC.last_sync_attempt_ms;
        },
        10_000,
        "a push from A to C hanging",
      );
      await acknowledged(a, b);
      expect((await get(b, "while-c-hangs")).status).toBe(200);
      // B acknowledged while that same push to C had not completed: a stuck peer holds up no other.
      const toC = await syncStateOf(a, c);
      expect(toC.last_sync_attempt_ms).toBe(hanging);
      expect(pushPendingSince(toC, stoppedAt)).toBe(true);
      expect((await del(b, "doomed")).status).toBe(200);
      expect((await put(b, "while-paused", "y")).status).toBe(200);
      // A holds the delete and the new write; C, paused, still holds "doomed" live.
      await acknowledged(b, a);
    } finally {
      c.resume();
    }
    await waitFor(async () => (await get(c, "while-paused")).status === 200, 15_000, "write reached C after resume");
    await waitFor(async () => (await get(c, "doomed")).status === 404, 15_000, "delete reached C after resume");
    // After digest exchanges between every pair, the delete still holds on every node.
    await syncsComplete([a, b, c], 11);
    for (const node of [a, b, c]) expect((await get(node, "doomed")).status).toBe(404);
  });

  it("after an owner reset of the hash the nodes re-agree on the secret they hold, and data stays readable", async () => {
    expect((await put(a, "survives-reset", "z")).status).toBe(200);
    await waitFor(async () => (await get(c, "survives-reset")).status === 200, 10_000, "replicated before reset");
    const before = await cluster.chain.reader.masterSecretHash();
    const { walletClient, publicClient } = cluster.chain.clients;
    const hash = await walletClient.writeContract({
      address: cluster.chain.deployment.kmsRegistry,
      abi: kmsRegistryAbi,
      functionName: "resetMasterSecretHash",
    });
    await publicClient.waitForTransactionReceipt({ hash });
    await waitFor(async () => (await cluster.chain.reader.masterSecretHash()) === before, 20_000, "hash set again");
    await Promise.all([a, b, c].map((n) => waitForServing(n.url, 20_000)));
    for (const node of [a, b, c]) expect((await get(node, "survives-reset")).json?.value).toBe(b64("z"));
  });

  it("keeps tombstones while a registered member has not acknowledged them, and collects them once it leaves", async () => {
    const tombstones = async (n: NodeProcess) => (await getStatus(n.url)).kms.store?.tombstones ?? 0;
    // The stopped "late" node is still ACTIVE on chain and has acknowledged nothing since.
    expect(await tombstones(a)).toBeGreaterThan(0);
    await cluster.chain.admin.setInstanceStatus(departedInstanceId, InstanceStatus.STOPPED);
    await waitFor(
      async () => (await Promise.all([a, b, c].map(tombstones))).every((t) => t === 0),
      20_000,
      "tombstones collected",
    );
    for (const node of [a, b, c]) expect((await get(node, "doomed")).status).toBe(404);
  });
});
