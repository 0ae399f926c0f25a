// The cluster scripts' library against real node processes on a real anvil chain — start, register,
// serve, pause/resume, kill, stop — and the scripts built on it: `make run --once` end to end, and a
// simulation stopped by `make stop-simulation` leaving no process and no file behind.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NovaKmsClient } from "../../client/nova-kms-client.js";
import { SimulatedTee, simulatedIdentity } from "../../enclave/tee/simulated.js";
import {
  answersHealth,
  deploymentEnv,
  fetchStatus,
  pollUntil,
  readSimulationRecord,
  registerDemoApp,
  registerNode,
  startNodeProcess,
  waitForHealth,
  waitForServing,
  type NodeProcess,
} from "../../scripts/cluster/index.js";
import { isAlive } from "../../scripts/cluster/process-control.js";
import { REPO_ROOT, startDevchain, type Devchain } from "../../scripts/devchain/index.js";

const SECRET = "5a".repeat(32);

describe("scripts/cluster library", () => {
  let chain: Devchain;
  let a: NodeProcess;
  let b: NodeProcess;

  beforeAll(async () => {
    chain = await startDevchain();
    // Both nodes get the same preset secret, so this test depends only on the node, not on adoption.
    const env = { ...deploymentEnv(chain.deployment), MASTER_SECRET_HEX: SECRET, LOG_LEVEL: "warn" };
    [a, b] = await Promise.all([
      startNodeProcess({ env, seed: "scripts-test-a" }),
      startNodeProcess({ env, seed: "scripts-test-b" }),
    ]);
    for (const node of [a, b]) await registerNode(chain.admin, chain.deployment, { seed: node.seed, url: node.url });
    await Promise.all([waitForServing(a.url, 60_000), waitForServing(b.url, 60_000)]);
  });

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await chain?.stop();
  });

  it("registers each node under its seed's identity and URL, and both serve one secret", async () => {
    for (const node of [a, b]) {
      expect(node.wallet).toBe(simulatedIdentity(node.seed).wallet.toLowerCase());
      const instance = await chain.reader.getInstanceByWallet(node.wallet as `0x${string}`);
      expect(instance.instanceUrl).toBe(node.url);
      expect(instance.zkVerified).toBe(true);
    }
    const [sa, sb] = await Promise.all([fetchStatus(a.url), fetchStatus(b.url)]);
    expect(sa.node).toMatchObject({ service_available: true, tee_wallet: a.wallet });
    expect(sb.node).toMatchObject({ service_available: true, tee_wallet: b.wallet });
    expect(sa.kms.master_secret.on_chain_hash).toBeTruthy();
    expect(sb.kms.master_secret.on_chain_hash).toBe(sa.kms.master_secret.on_chain_hash);
  });

  it("registers a demo app whose SimulatedTee seed can use the cluster", async () => {
    const app = await registerDemoApp(chain.admin, { seed: "scripts-test-app" });
    const kms = new NovaKmsClient({
      tee: new SimulatedTee({ seed: app.seed }),
      registry: chain.reader,
      kmsAppId: chain.deployment.kmsAppId,
      allowHttp: true,
    });
    const derived = await kms.derive({ path: "p" });
    expect(derived.appId).toBe(app.appId);
    expect(app.wallet).toBe(simulatedIdentity(app.seed).wallet.toLowerCase());
  });

  it("pause() makes a node silent and resume() brings it back", async () => {
    a.pause();
    try {
      expect(await answersHealth(a.url, 500)).toBe(false);
    } finally {
      a.resume();
    }
    await waitForHealth(a.url, 10_000);
  });

  it("kill() leaves no process behind", async () => {
    await b.kill();
    expect(await b.exited).toBeNull();
    expect(isAlive(b.pid)).toBe(false);
  });

  it("stop() shuts a paused node down gracefully", async () => {
    a.pause();
    await a.stop();
    // Exit code 0 is the node's own graceful shutdown, not a SIGKILL after the grace period.
    expect(await a.exited).toBe(0);
    expect(isAlive(a.pid)).toBe(false);
  });

  it("reports the node's own words when it cannot start", async () => {
    const error = await startNodeProcess({ env: { CHAIN_RPC_URL: chain.deployment.rpcUrl }, seed: "broken" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/invalid configuration: NOVA_APP_REGISTRY_ADDRESS/);
  });
});

describe("cluster scripts", () => {
  let dir: string;

  beforeAll(() => {
    // Private deployment, PID file and logs, so a developer's running simulation is never touched.
    dir = mkdtempSync(path.join(os.tmpdir(), "kms-scripts-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const script = (file: string, args: string[]): ResultPromise =>
    execa(process.execPath, ["--import", "tsx", file, ...args], { cwd: REPO_ROOT, reject: false, env: { CI: "" } });
  const files = (name: string) => ({
    deployment: path.join(dir, name, "deployment.json"),
    pidFile: path.join(dir, name, "pids.json"),
    logDir: path.join(dir, name, "logs"),
  });
  const fileArgs = (f: ReturnType<typeof files>) => [
    "--file",
    f.deployment,
    "--pid-file",
    f.pidFile,
    "--log-dir",
    f.logDir,
  ];

  it("`scripts/run.ts --once` runs the whole demo, exits 0 and leaves nothing running", async () => {
    const f = files("run");
    const run = await script("scripts/run.ts", ["--once", ...fileArgs(f)]);
    const output = `${String(run.stdout)}\n${String(run.stderr)}`;
    expect(output).toMatch(/12\/12 steps ok/);
    expect(run.exitCode, output).toBe(0);
    expect(output).toMatch(/KV get .* from node-2/);
    expect(output).toMatch(/rotate on node-1: old ciphertext still decrypts, new ones use version 2\n(.*\n)*? {4}ok/);
    const pids = [...String(run.stdout).matchAll(/^node-\d\s+\S+\s+(\d+)\s/gm)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(f.pidFile)).toBe(false);
    expect(existsSync(f.deployment)).toBe(false);
    expect(readFileSync(path.join(f.logDir, "node-1.log"), "utf8")).toMatch(/listening/);
  }, 240_000);

  it("`make stop-simulation` ends a running multi-node simulation and removes its files", async () => {
    const f = files("sim");
    const simulation = script("scripts/run-multi-node.ts", ["--nodes", "2", ...fileArgs(f)]);
    try {
      const record = await pollUntil(
        async () => (existsSync(f.pidFile) ? readSimulationRecord(f.pidFile) : undefined),
        {
          timeoutMs: 120_000,
          what: "the simulation's PID file",
          abort: simulation,
        },
      );
      expect(record.nodes).toHaveLength(2);
      expect(record.supervisor.pid).toBe(simulation.pid);
      for (const node of record.nodes) expect((await fetchStatus(node.url)).node.service_available).toBe(true);
      expect(existsSync(f.deployment)).toBe(true);

      const stop = await script("scripts/stop-simulation.ts", ["--pid-file", f.pidFile]);
      expect(stop.exitCode, String(stop.stdout)).toBe(0);
      expect(String(stop.stdout)).toMatch(/stopped node-1/);
      for (const pid of [record.supervisor.pid, record.anvilPid, ...record.nodes.map((n) => n.pid)])
        expect(isAlive(pid)).toBe(false);
      expect((await simulation).exitCode).toBe(0);
      // The supervisor stopped its nodes gracefully (their own shutdown ran), not with SIGKILL.
      for (const node of record.nodes) expect(readFileSync(node.logFile!, "utf8")).toMatch(/shutting down/);
      expect(existsSync(f.pidFile)).toBe(false);
      expect(existsSync(f.deployment)).toBe(false);

      const again = await script("scripts/stop-simulation.ts", ["--pid-file", f.pidFile]);
      expect(again.exitCode).toBe(0);
      expect(String(again.stdout)).toMatch(/nothing to stop/);
    } finally {
      simulation.kill("SIGTERM");
      await simulation;
    }
  }, 240_000);
});
