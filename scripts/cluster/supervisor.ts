// What the long-running cluster scripts (`make run`, `make simulation`, `make simulation-multi`) share:
// one PID file per running simulation, a summary table, and staying up until Ctrl-C / SIGTERM (or
// until the chain dies), then stopping everything in order.
import path from "node:path";
import { startCluster, type Cluster } from "./cluster.js";
import { passThroughEnv } from "./options.js";
import { isOurs } from "./process-control.js";
import {
  readSimulationRecord,
  removeSimulationRecord,
  writeSimulationRecord,
  type SimulationRecord,
} from "./pid-file.js";
import { displayPath, formatTable } from "./table.js";

/** What a node process's command line contains (node-process.ts spawns `node --import tsx enclave/main.ts`). */
const NODE_ENTRY = "enclave/main.ts";

export interface StopSignal {
  /** Resolves with the signal's name on the first SIGINT, SIGTERM or SIGHUP. */
  readonly received: Promise<string>;
  /**
   * Runs `begin` synchronously inside the signal handler, before the shared exit cleanup would kill
   * the children outright, so a graceful stop gets to start first (pass `() => void cluster.stop()`).
   */
  onReceived(begin: () => void): void;
}

/** Call before starting anything, so Ctrl-C during set-up still ends in a clean stop. */
export function stopSignal(): StopSignal {
  let begin: (() => void) | undefined;
  let fired = false;
  const received = new Promise<string>((resolve) => {
    // `on`, not `once`: a second Ctrl-C must not fall back to the default (immediate) exit while
    // the first one is still shutting down in order.
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.on(signal, () => {
        if (!fired) begin?.();
        fired = true;
        resolve(signal);
      });
    }
  });
  return {
    received,
    onReceived: (fn) => {
      begin = fn;
    },
  };
}

/** Throws when the PID file names a simulation whose processes still run. A stale file is fine. */
export function refuseIfRunning(pidFile: string): void {
  let record: SimulationRecord | undefined;
  try {
    record = readSimulationRecord(pidFile);
  } catch {
    return; // Not a record: it will be overwritten.
  }
  if (!record) return;
  const running = recordedProcesses(record).filter((p) => isOurs(p.pid, p.marker));
  if (running.length > 0) {
    const list = running.map((p) => `${p.what} (pid ${p.pid})`).join(", ");
    throw new Error(
      `${pidFile} records a simulation that still runs: ${list}; stop it first with \`make stop-simulation\``,
    );
  }
}

/** Every process a record names, with the text its command line must contain to still be ours. */
export function recordedProcesses(record: SimulationRecord): Array<{ what: string; pid: number; marker: string }> {
  return [
    {
      what: `supervisor ${path.basename(record.supervisor.script)}`,
      pid: record.supervisor.pid,
      marker: path.basename(record.supervisor.script),
    },
    ...record.nodes.map((n) => ({ what: n.name, pid: n.pid, marker: NODE_ENTRY })),
    { what: "anvil", pid: record.anvilPid, marker: "anvil" },
  ];
}

export function simulationRecord(
  cluster: Cluster,
  script: string,
  deploymentFile: string | undefined,
): SimulationRecord {
  return {
    supervisor: { pid: process.pid, script },
    startedAt: new Date().toISOString(),
    deploymentFile,
    rpcUrl: cluster.devchain.deployment.rpcUrl,
    anvilPid: cluster.devchain.anvil.pid,
    nodes: cluster.nodes.map((n) => ({
      name: `node-${n.index}`,
      pid: n.pid,
      url: n.url,
      wallet: n.wallet,
      instanceId: n.instanceId.toString(),
      logFile: n.logFile,
    })),
  };
}

export interface SupervisedStart {
  /** The script's name in messages (`run`, `simulation`). */
  name: string;
  /** Recorded in the PID file as what started the processes. */
  script: string;
  nodes: number;
  deploymentFile: string;
  pidFile: string;
  logDir: string;
  stop: StopSignal;
  say: (line: string) => void;
}

/**
 * Starts a cluster the way every long-running script does: refuses when the PID file names one still
 * running; a signal during start-up stops what was started and exits 130; a start-up failure exits 1
 * with its message; once up, a signal stops the cluster and its processes are in the PID file.
 */
export async function startSupervisedCluster(
  options: SupervisedStart,
): Promise<{ cluster: Cluster; removeRecord: () => void }> {
  const { name, stop, say } = options;
  const fail = (error: unknown): never => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  };
  try {
    refuseIfRunning(options.pidFile);
  } catch (error) {
    fail(error);
  }
  const starting = startCluster({
    nodes: options.nodes,
    deploymentFile: options.deploymentFile,
    logDir: options.logDir,
    env: passThroughEnv(),
    log: say,
  });
  const first = await Promise.race([
    starting.then(
      (cluster) => ({ cluster }),
      (error: unknown) => ({ error }),
    ),
    stop.received.then((signal) => ({ signal })),
  ]);
  if ("signal" in first) {
    // Children die with this process (exit cleanup); the deployment file goes with them.
    say(`${first.signal} during start-up: stopping`);
    void starting.then(
      (cluster) => cluster.stop(),
      () => undefined,
    );
    process.exit(130);
  }
  if ("error" in first) return fail(first.error);
  const { cluster } = first;
  stop.onReceived(() => void cluster.stop());
  const record = simulationRecord(cluster, options.script, options.deploymentFile);
  return { cluster, removeRecord: publishRecord(options.pidFile, record) };
}

/** Writes the PID file and arranges for it to disappear with this process. Returns the remover. */
export function publishRecord(pidFile: string, record: SimulationRecord): () => void {
  writeSimulationRecord(pidFile, record);
  const remove = (): void => removeSimulationRecord(pidFile);
  process.once("exit", remove);
  return remove;
}

/** The node table: name, URL, pid, wallet, instance id, serving or why not, log file. */
export function clusterSummary(cluster: Cluster): string {
  const reasons = new Map(cluster.notServing.map((n) => [n.node.index, n.reason]));
  const rows = cluster.nodes.map((n) => [
    `node-${n.index}`,
    n.url,
    String(n.pid),
    n.wallet,
    n.instanceId.toString(),
    reasons.has(n.index) ? "NO" : "yes",
    n.logFile ? displayPath(n.logFile) : "-",
  ]);
  const d = cluster.devchain.deployment;
  const lines = [
    formatTable(["node", "url", "pid", "wallet", "instance", "serving", "log"], rows),
    "",
    `chain        ${d.rpcUrl} (chain id ${d.chainId}, anvil pid ${cluster.devchain.anvil.pid})`,
    `registries   NovaAppRegistry ${d.novaAppRegistry}, KMSRegistry ${d.kmsRegistry}`,
    `KMS app id   ${d.kmsAppId} (version ${d.kmsVersionId})`,
  ];
  for (const [index, reason] of reasons) lines.push(`node-${index} is not serving: ${reason}`);
  return lines.join("\n");
}

/**
 * Waits until a stop signal arrives or anvil dies, reporting nodes that exit on their own meanwhile;
 * then stops the cluster. Returns the exit code to use: 0 after a signal, 1 when the chain died.
 */
export async function superviseUntilStopped(
  cluster: Cluster,
  stop: StopSignal,
  log: (line: string) => void,
): Promise<number> {
  let stopping = false;
  for (const node of cluster.nodes) {
    void node.exited.then((code) => {
      if (!stopping)
        log(
          `node-${node.index} (pid ${node.pid}) exited on its own with ${code === null ? "a signal" : `code ${code}`}; see ${node.logFile ?? "its output"}`,
        );
    });
  }
  const reason = await Promise.race([stop.received, cluster.devchain.anvil.exited.then(() => "anvil exited")]);
  stopping = true;
  log(
    reason === "anvil exited"
      ? "the dev chain exited; stopping the nodes"
      : `${reason}: stopping the nodes and the dev chain`,
  );
  await cluster.stop();
  log("stopped");
  return reason === "anvil exited" ? 1 : 0;
}
