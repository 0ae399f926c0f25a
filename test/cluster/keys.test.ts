// Named keys and secrets (PROTOCOL.md §12) across three real node processes on a real chain:
// a change acknowledged by one node is usable on every other one at once (no waiting), concurrent
// rotations and secret puts never share a version number, a node paused through a destroy refuses
// the destroyed version on its very first request after waking, scheduled rotation makes exactly
// one version cluster-wide, and a node restarted empty recovers keys and secrets from its peers.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { registerDemoApp, type NodeProcess } from "../../scripts/cluster/index.js";
import { appRequest, fetchNonce, type AppRequestOptions } from "../support/app-request.js";
import { startClusterFixture, targetOf, waitForServing, type ClusterFixture } from "../support/process-cluster.js";
import { getStatus } from "../support/kms-harness.js";
import { waitFor } from "../support/wait.js";

const MAINTENANCE_INTERVAL_MS = 1_000;
const DESTROY_DELAY_MS = 2_000;
const PEER_TIMEOUT_MS = 1_500;
/** 0.0001 days: scheduled rotation every 8.64 s. */
const ROTATION_PERIOD_DAYS = 0.0001;
const ROTATION_PERIOD_MS = Math.round(ROTATION_PERIOD_DAYS * 24 * 3600 * 1000);

let cluster: ClusterFixture;
let nodes: NodeProcess[];
let tee: SimulatedTee;

type Method = AppRequestOptions["method"];
const b64 = (s: string) => Buffer.from(s).toString("base64");
const call = (node: NodeProcess, method: Method, path: string, body?: unknown, nonce?: string) =>
  appRequest(targetOf(node), tee, { method, path, body, ...(nonce !== undefined ? { nonce } : {}) });

/** The decrypted reply of a call that must answer 200 (otherwise fails naming the call and the error). */
async function ok(node: NodeProcess, method: Method, path: string, body?: unknown) {
  const res = await call(node, method, path, body);
  expect(res.status, `${method} ${path} on ${node.seed}: ${JSON.stringify(res.raw)}`).toBe(200);
  return res.json;
}

const encrypt = (node: NodeProcess, key: string, plaintext: string) =>
  ok(node, "POST", `/kms/keys/${key}/encrypt`, { plaintext: b64(plaintext) }) as Promise<{
    ciphertext: string;
    version: number;
  }>;
const decrypt = (node: NodeProcess, ciphertext: string) => call(node, "POST", "/kms/decrypt", { ciphertext });
const rotate = (node: NodeProcess, key: string) => call(node, "POST", `/kms/keys/${key}/rotate`, {});

interface VersionJson {
  version: number;
  state: string;
  created_at_ms: number;
  destroy_at_ms?: number;
}
const versionsOn = async (node: NodeProcess, key: string): Promise<VersionJson[]> =>
  (await ok(node, "GET", `/kms/keys/${key}/versions`)).versions;
const versionNumbersOn = async (node: NodeProcess, key: string) => (await versionsOn(node, key)).map((v) => v.version);

/** Whether a process is stopped (SIGSTOP has taken effect): state "T" in /proc/<pid>/stat. */
function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

beforeAll(async () => {
  cluster = await startClusterFixture("keys", {
    PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS),
    KEY_DESTROY_DELAY_HOURS: String(DESTROY_DELAY_MS / 3_600_000),
    KEY_MAINTENANCE_INTERVAL_MS: String(MAINTENANCE_INTERVAL_MS),
  });
  // No preset secret: the nodes bootstrap one, and the restarted node adopts it from a peer.
  nodes = await Promise.all(["keys-a", "keys-b", "keys-c"].map((seed) => cluster.start(seed)));
  for (const node of nodes) await cluster.register(node);
  await Promise.all(nodes.map((n) => waitForServing(n.url, 60_000)));
  const app = await registerDemoApp(cluster.chain.admin, { seed: "keys-app" });
  tee = new SimulatedTee({ seed: app.seed });
  // Every node knows its peers, so each can take a lease from a majority.
  for (const node of nodes) {
    await waitFor(
      async () => (await call(node, "PUT", `/kms/secrets/warm-up-${node.seed}`, { value: b64("x") })).status === 200,
      30_000,
      `a first secret put on ${node.seed}`,
    );
  }
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("named keys across three real node processes", () => {
  it("a key created and rotated on A is usable on B and C at once; old ciphertext still decrypts", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const created = await ok(a, "POST", "/kms/keys", { name: "orders", purpose: "encrypt" });
    expect(created.primary_version).toBe(1);
    const c1 = await encrypt(a, "orders", "first");
    expect(c1.version).toBe(1);
    for (const node of [b, c]) {
      const opened = await decrypt(node, c1.ciphertext);
      expect(opened.status, `decrypt on ${node.seed}: ${JSON.stringify(opened.raw)}`).toBe(200);
      expect(opened.json).toMatchObject({ plaintext: b64("first"), key: "orders", version: 1 });
    }
    const rotated = await rotate(a, "orders");
    expect(rotated.status, JSON.stringify(rotated.raw)).toBe(200);
    expect(rotated.json.primary_version).toBe(2);
    const c2 = await encrypt(a, "orders", "second");
    expect(c2.version).toBe(2);
    const onB = await decrypt(b, c2.ciphertext);
    expect(onB.status, JSON.stringify(onB.raw)).toBe(200);
    expect(onB.json).toMatchObject({ plaintext: b64("second"), version: 2 });
    const oldOnC = await decrypt(c, c1.ciphertext);
    expect(oldOnC.status, JSON.stringify(oldOnC.raw)).toBe(200);
    expect(oldOnC.json).toMatchObject({ plaintext: b64("first"), version: 1 });
    // B and C also agree A's rotation happened: their own encryptions use version 2.
    expect((await encrypt(c, "orders", "third")).version).toBe(2);
  });

  it("rotations on A and B at the same moment both succeed with distinct versions, seen everywhere at once", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await ok(a, "POST", "/kms/keys", { name: "contended", purpose: "encrypt" });
    const rotateThenEncrypt = async (node: NodeProcess, nonce: string) => {
      const rotated = await call(node, "POST", "/kms/keys/contended/rotate", {}, nonce);
      const sealed = rotated.status === 200 ? await encrypt(node, "contended", `after ${node.seed}`) : undefined;
      return { rotated, sealed };
    };
    // Nonces first, so both rotations leave at the same instant.
    const nonces = await Promise.all([a, b].map((n) => fetchNonce(n.url)));
    const [onA, onB] = await Promise.all([rotateThenEncrypt(a, nonces[0]!), rotateThenEncrypt(b, nonces[1]!)]);
    expect(onA.rotated.status, JSON.stringify(onA.rotated.raw)).toBe(200);
    expect(onB.rotated.status, JSON.stringify(onB.rotated.raw)).toBe(200);
    expect([onA.rotated.json.primary_version, onB.rotated.json.primary_version].sort()).toEqual([2, 3]);
    for (const node of nodes) {
      expect(await versionNumbersOn(node, "contended"), `versions on ${node.seed}`).toEqual([1, 2, 3]);
      expect((await ok(node, "GET", "/kms/keys/contended")).primary_version, `primary on ${node.seed}`).toBe(3);
    }
    for (const { sealed, node } of [
      { sealed: onA.sealed!, node: a },
      { sealed: onB.sealed!, node: b },
    ]) {
      expect(sealed.version).toBeGreaterThanOrEqual(2);
      const opened = await decrypt(c, sealed.ciphertext);
      expect(opened.status, JSON.stringify(opened.raw)).toBe(200);
      expect(opened.json).toMatchObject({ plaintext: b64(`after ${node.seed}`), version: sealed.version });
    }
  });

  it("rounds of rotations on all three nodes at once never share or lose a version", async () => {
    await ok(nodes[0]!, "POST", "/kms/keys", { name: "hammered", purpose: "encrypt" });
    const ROUNDS = 5;
    const answered: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const nonces = await Promise.all(nodes.map((n) => fetchNonce(n.url)));
      const replies = await Promise.all(
        nodes.map((n, i) => call(n, "POST", "/kms/keys/hammered/rotate", {}, nonces[i])),
      );
      for (const [i, r] of replies.entries()) {
        expect(r.status, `round ${round} on ${nodes[i]!.seed}: ${JSON.stringify(r.raw)}`).toBe(200);
        answered.push(r.json.primary_version);
      }
    }
    const expected = Array.from({ length: 1 + 3 * ROUNDS }, (_, i) => i + 1);
    expect([...answered].sort((x, y) => x - y)).toEqual(expected.slice(1));
    for (const node of nodes) expect(await versionNumbersOn(node, "hammered"), `on ${node.seed}`).toEqual(expected);
  });

  it("secret puts on A and B at the same moment get versions 1 and 2, both readable on every node", async () => {
    const [a, b] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const nonces = await Promise.all([a, b].map((n) => fetchNonce(n.url)));
    const [onA, onB] = await Promise.all([
      call(a, "PUT", "/kms/secrets/shared", { value: b64("from a") }, nonces[0]),
      call(b, "PUT", "/kms/secrets/shared", { value: b64("from b") }, nonces[1]),
    ]);
    expect(onA.status, JSON.stringify(onA.raw)).toBe(200);
    expect(onB.status, JSON.stringify(onB.raw)).toBe(200);
    expect([onA.json.version, onB.json.version].sort()).toEqual([1, 2]);
    for (const node of nodes) {
      for (const [put, value] of [
        [onA, "from a"],
        [onB, "from b"],
      ] as const) {
        const got = await ok(node, "GET", `/kms/secrets/shared?version=${put.json.version}`);
        expect(got, `version ${put.json.version} on ${node.seed}`).toMatchObject({ value: b64(value) });
      }
      expect((await ok(node, "GET", "/kms/secrets/shared")).version).toBe(2);
    }
    // More rounds, on all three nodes at once: every put gets its own version, and each is kept.
    const written = new Map<number, string>();
    for (let round = 0; round < 4; round++) {
      const roundNonces = await Promise.all(nodes.map((n) => fetchNonce(n.url)));
      const replies = await Promise.all(
        nodes.map((n, i) =>
          call(n, "PUT", "/kms/secrets/shared", { value: b64(`round ${round} ${n.seed}`) }, roundNonces[i]),
        ),
      );
      for (const [i, r] of replies.entries()) {
        expect(r.status, `round ${round} on ${nodes[i]!.seed}: ${JSON.stringify(r.raw)}`).toBe(200);
        expect(written.has(r.json.version), `version ${r.json.version} given twice`).toBe(false);
        written.set(r.json.version, `round ${round} ${nodes[i]!.seed}`);
      }
    }
    expect([...written.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 3));
    for (const node of nodes) {
      for (const [version, value] of written) {
        const got = await call(node, "GET", `/kms/secrets/shared?version=${version}`);
        expect(got.json?.value, `version ${version} on ${node.seed}`).toBe(b64(value));
      }
    }
  });

  it("a version destroyed while C is paused is refused by C's very first request after SIGCONT", async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await ok(a, "POST", "/kms/keys", { name: "doomed", purpose: "encrypt" });
    const c1 = await encrypt(a, "doomed", "short-lived");
    await ok(a, "POST", "/kms/keys/doomed/rotate", {});
    // C holds v1 ENABLED with its material (the commits above waited for it).
    expect((await decrypt(c, c1.ciphertext)).status).toBe(200);
    // A nonce from C taken now, so the decrypt can be sent while C is stopped.
    const nonce = await fetchNonce(c.url);
    c.pause();
    let resumed = false;
    try {
      await waitFor(() => isStopped(c.pid), 5_000, "C stopped");
      // Sent before the destroy: its bytes wait in C's socket ahead of every replication push the
      // destroy causes, so C handles it first when it wakes, before any of them can be merged.
      // (Sent after SIGCONT instead, it comes after A's pushes that the kernel queued for the
      // stopped C, and passes even with C's stall detection removed: it would test nothing.)
      const first = call(c, "POST", "/kms/decrypt", { ciphertext: c1.ciphertext }, nonce);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const destroyed = await call(a, "POST", "/kms/keys/doomed/versions/1/destroy", {});
      expect(destroyed.status, JSON.stringify(destroyed.raw)).toBe(200);
      expect(destroyed.json.state).toBe("DESTROY_SCHEDULED");
      expect(Date.now() - started).toBeLessThan(PEER_TIMEOUT_MS + 5_000);
      const destroyAt = destroyed.json.destroy_at_ms as number;
      expect(destroyAt).toBeGreaterThan(Date.now() - DESTROY_DELAY_MS);
      // Past the destroy time: A and B refuse v1 (and maintenance erases its material).
      await waitFor(() => Date.now() > destroyAt + 200, DESTROY_DELAY_MS + 5_000, "the destroy time");
      for (const node of [a, b]) expect((await decrypt(node, c1.ciphertext)).status).toBe(409);
      expect(isStopped(c.pid)).toBe(true);
      c.resume();
      resumed = true;
      const refused = await first;
      expect(refused.status, `C's first decrypt after waking: ${JSON.stringify(refused.raw)}`).toBe(409);
    } finally {
      if (!resumed) c.resume();
    }
    const v1 = await ok(c, "GET", "/kms/keys/doomed/versions/1");
    expect(v1.state).toBe("DESTROYED");
    // C says in /status that it noticed its own stall (which is what made it catch up first).
    expect((await getStatus(c.url)).kms.named_keys?.stalls_seen).toBeGreaterThanOrEqual(1);
    expect((await decrypt(c, c1.ciphertext)).status).toBe(409);
    // Nothing C did on waking (it also handled A's lease request that timed out while it slept)
    // keeps B or C from changing the key now.
    for (const node of [b, c]) {
      const started = Date.now();
      const changed = await call(node, "PATCH", "/kms/keys/doomed", { description: `by ${node.seed}` });
      expect(changed.status, `a change on ${node.seed} after C woke: ${JSON.stringify(changed.raw)}`).toBe(200);
      expect(Date.now() - started, `the change on ${node.seed}`).toBeLessThan(2_000);
    }
    // v2 still works on C.
    const c2 = await encrypt(c, "doomed", "survives");
    expect(c2.version).toBe(2);
    expect((await decrypt(b, c2.ciphertext)).status).toBe(200);
  });

  it("scheduled rotation makes exactly one new version cluster-wide per period", async () => {
    const [a] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const created = await ok(a, "POST", "/kms/keys", {
      name: "scheduled",
      purpose: "encrypt",
      rotation_period_days: ROTATION_PERIOD_DAYS,
    });
    expect(created.next_rotation_at_ms - created.created_at_ms).toBe(ROTATION_PERIOD_MS);
    await waitFor(
      async () => (await ok(a, "GET", "/kms/keys/scheduled")).primary_version === 2,
      30_000,
      "scheduled rotation to version 2",
    );
    const seenAt = Date.now();
    // Every node runs maintenance; give each at least one more pass (the non-preferred ones wait 3).
    await new Promise((r) => setTimeout(r, 4 * MAINTENANCE_INTERVAL_MS + 500));
    const lists = await Promise.all(nodes.map((n) => versionsOn(n, "scheduled")));
    const [v1, v2] = lists[0]!;
    expect(v1?.version).toBe(1);
    expect(v2?.version).toBe(2);
    expect(v2!.created_at_ms - v1!.created_at_ms).toBeGreaterThanOrEqual(ROTATION_PERIOD_MS);
    // A third version is legitimate only one full period after the second.
    const expected = Date.now() < v2!.created_at_ms + ROTATION_PERIOD_MS ? [1, 2] : [1, 2, 3];
    expect(Date.now() - seenAt).toBeLessThan(ROTATION_PERIOD_MS);
    for (const [i, list] of lists.entries()) {
      expect(
        list.map((v) => v.version),
        `versions on ${nodes[i]!.seed}`,
      ).toEqual(expected);
      expect(list).toEqual(lists[0]);
      for (let k = 1; k < list.length; k++) {
        expect(list[k]!.created_at_ms - list[k - 1]!.created_at_ms).toBeGreaterThanOrEqual(ROTATION_PERIOD_MS);
      }
    }
    // Stop the schedule so later tests do not race it.
    await ok(a, "PATCH", "/kms/keys/scheduled", { rotation_period_days: 0 });
  });

  it("a node paused across the due time does not rotate a second time when it wakes", async () => {
    const [a, , c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await ok(a, "POST", "/kms/keys", {
      name: "sleeper",
      purpose: "encrypt",
      rotation_period_days: ROTATION_PERIOD_DAYS,
    });
    // C (it acknowledged the key) sleeps through the due time with a view in which the key is due;
    // on waking its first maintenance pass must find, under the lease, that A or B already rotated.
    c.pause();
    let resumed = false;
    try {
      await waitFor(() => isStopped(c.pid), 5_000, "C stopped");
      await waitFor(
        async () => (await ok(a, "GET", "/kms/keys/sleeper")).primary_version === 2,
        30_000,
        "scheduled rotation to version 2 without C",
      );
      c.resume();
      resumed = true;
    } finally {
      if (!resumed) c.resume();
    }
    await new Promise((r) => setTimeout(r, 3 * MAINTENANCE_INTERVAL_MS));
    const lists = await Promise.all(nodes.map((n) => versionsOn(n, "sleeper")));
    const [v1, v2] = lists[0]!;
    expect(Date.now()).toBeLessThan(v2!.created_at_ms + ROTATION_PERIOD_MS);
    for (const [i, list] of lists.entries()) {
      expect(
        list.map((v) => v.version),
        `versions on ${nodes[i]!.seed}`,
      ).toEqual([1, 2]);
    }
    expect(v2!.created_at_ms - v1!.created_at_ms).toBeGreaterThanOrEqual(ROTATION_PERIOD_MS);
    await ok(a, "PATCH", "/kms/keys/sleeper", { rotation_period_days: 0 });
  });

  it("a node SIGKILLed and restarted empty serves the keys and secrets it recovered from its peers", async () => {
    const [a, b] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    await ok(a, "POST", "/kms/keys", { name: "survivor", purpose: "encrypt" });
    const sealed = await encrypt(a, "survivor", "kept");
    await ok(a, "PUT", "/kms/secrets/survivor", { value: b64("kept secret") });
    await b.kill();
    nodes[1] = await cluster.start(b.seed, {}, b.port);
    await waitForServing(nodes[1]!.url, 60_000);
    const restarted = nodes[1]!;
    const opened = await decrypt(restarted, sealed.ciphertext);
    expect(opened.status, `decrypt on the restarted B: ${JSON.stringify(opened.raw)}`).toBe(200);
    expect(opened.json).toMatchObject({ plaintext: b64("kept"), key: "survivor", version: 1 });
    const secret = await call(restarted, "GET", "/kms/secrets/survivor");
    expect(secret.status, `secret on the restarted B: ${JSON.stringify(secret.raw)}`).toBe(200);
    expect(secret.json).toMatchObject({ version: 1, value: b64("kept secret") });
    // Keys made before (and a rotated one) came back too, and B can change keys again.
    expect(await versionNumbersOn(restarted, "contended")).toEqual([1, 2, 3]);
    expect((await rotate(restarted, "survivor")).status).toBe(200);
    expect((await encrypt(a, "survivor", "after")).version).toBe(2);
  });
});
