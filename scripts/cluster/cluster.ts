// A whole local cluster in one call: a dev chain, N node processes (seeds sim-node-1..N), each
// registered on chain, and a wait until they serve. Shared by `make run`, `make simulation` and
// `make simulation-multi`; tests that want finer control use the pieces directly.
import path from "node:path";
import { startDevchain, type Devchain } from "../devchain/start.js";
import { deploymentEnv, startNodeProcess, type NodeProcess } from "./node-process.js";
import { registerNode } from "./registration.js";
import { waitForServing } from "./wait.js";

export interface StartClusterOptions {
  nodes: number;
  /** Deployment record to write (and remove on stop); none when omitted. */
  deploymentFile?: string;
  /** Node logs go to `<logDir>/node-<i>.log`; output is dropped when omitted. */
  logDir?: string;
  /** Extra node environment for every node, e.g. MASTER_SECRET_HEX or LOG_LEVEL. */
  env?: Record<string, string>;
  /** How long to wait for every node to serve, default 30 s. Nodes still not serving are reported, not fatal. */
  servingTimeoutMs?: number;
  /** Progress lines for humans. */
  log?: (line: string) => void;
}

export interface ClusterNode extends NodeProcess {
  /** 1-based, as in the seed `sim-node-<index>` and the log file name. */
  readonly index: number;
  readonly instanceId: bigint;
}

export interface Cluster {
  devchain: Devchain;
  nodes: ClusterNode[];
  /** Nodes that did not report `service_available` in time, with their last reason. */
  notServing: Array<{ node: ClusterNode; reason: string }>;
  /** Stops every node (gracefully), then the chain. Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_SERVING_TIMEOUT_MS = 30_000;

export function nodeSeed(index: number): string {
  return `sim-node-${index}`;
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    throw new Error(`node count must be a positive integer, got ${options.nodes}`);
  const log = options.log ?? (() => {});
  const devchain = await startDevchain(options.deploymentFile ? { deploymentFile: options.deploymentFile } : {});
  log(
    `dev chain at ${devchain.deployment.rpcUrl} (anvil pid ${devchain.anvil.pid})${options.deploymentFile ? `, deployment in ${options.deploymentFile}` : ""}`,
  );

  const started: NodeProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await devchain.stop();
  };
  try {
    // One node cannot replicate: its writes are acknowledged alone (WRITE_QUORUM=1), and it says so.
    const quorum: Record<string, string> = options.nodes === 1 ? { WRITE_QUORUM: "1" } : {};
    const env = { ...deploymentEnv(devchain.deployment), ...quorum, ...options.env };
    if (options.nodes === 1 && (options.env?.WRITE_QUORUM ?? "1") === "1") {
      log("one node: WRITE_QUORUM=1, KV writes are acknowledged without being replicated");
    }
    const indexes = Array.from({ length: options.nodes }, (_, i) => i + 1);
    // Started together: most of a start is compiling TypeScript, which overlaps well.
    const results = await Promise.allSettled(
      indexes.map(async (index) => {
        const node = await startNodeProcess({
          env,
          seed: nodeSeed(index),
          ...(options.logDir ? { logFile: path.join(options.logDir, `node-${index}.log`) } : {}),
        });
        started.push(node);
        log(`node ${index} up at ${node.url} (pid ${node.pid}, wallet ${node.wallet})`);
        return node;
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const processes = results.map((r) => (r as PromiseFulfilledResult<NodeProcess>).value);

    const nodes: ClusterNode[] = [];
    for (const [i, node] of processes.entries()) {
      const instanceId = await registerNode(devchain.admin, devchain.deployment, { seed: node.seed, url: node.url });
      nodes.push({ ...node, index: i + 1, instanceId });
      log(`node ${i + 1} registered as instance ${instanceId} (ACTIVE, zkVerified, funded)`);
    }

    const timeoutMs = options.servingTimeoutMs ?? DEFAULT_SERVING_TIMEOUT_MS;
    const waits = await Promise.allSettled(nodes.map((node) => waitForServing(node.url, timeoutMs)));
    const notServing: Cluster["notServing"] = [];
    waits.forEach((result, i) => {
      const node = nodes[i] as ClusterNode;
      if (result.status === "fulfilled") log(`node ${node.index} serving`);
      else notServing.push({ node, reason: (result.reason as Error).message });
    });

    let stopping: Promise<void> | undefined;
    return { devchain, nodes, notServing, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
