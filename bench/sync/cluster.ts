// The sync bench's cluster: a dev chain, three KMS node processes registered on it (the
// scripts/cluster helpers, as in test/support/process-cluster.ts), and one demo app the writer and
// the pollers act as. Every process is stopped by stop(), and killed by the shared exit hook if the
// bench dies first (error, Ctrl-C).
import path from "node:path";
import { toHex } from "viem";
import { simulatedIdentity } from "../../enclave/tee/simulated.js";
import {
  deploymentEnv,
  registerDemoApp,
  registerNode,
  startNodeProcess,
  waitForServing,
  type NodeProcess,
} from "../../scripts/cluster/index.js";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { startDevchain, type Devchain } from "../../scripts/devchain/start.js";
import type { LoadTarget } from "../load/kms-node.js";

export const SERVING_TIMEOUT_MS = 90_000;
const LOG_DIR = path.join(REPO_ROOT, "logs", "bench-sync");

export interface SyncCluster {
  chain: Devchain;
  nodes: NodeProcess[];
  appSeed: string;
  /** What an app-side channel (bench/load/app-channel.ts) needs to talk to `node` as the demo app. */
  target(node: NodeProcess): LoadTarget;
  /** Starts a node again with the same seed, port (so the same registered URL) and settings: empty memory. */
  restart(node: NodeProcess): Promise<NodeProcess>;
  stop(): Promise<void>;
}

export async function startSyncCluster(options: {
  syncIntervalMs: number;
  seeds: string[];
  /** Extra node settings (e.g. WRITE_QUORUM), on top of the bench's. */
  env?: Record<string, string>;
}): Promise<SyncCluster> {
  const chain = await startDevchain();
  const started: NodeProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((n) => n.stop()));
    await chain.stop();
  };
  try {
    const env = {
      ...deploymentEnv(chain.deployment),
      DATA_SYNC_INTERVAL_MS: String(options.syncIntervalMs),
      // The node's chain tick (registration, peers, secret): startNodeProcess's default, stated here
      // because a restarted node becomes serving on a tick.
      KMS_NODE_TICK_MS: "1000",
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_MINUTE: "0",
      NONCE_RATE_LIMIT_PER_MINUTE: "0",
      WALLET_RATE_LIMIT_PER_MINUTE: "0",
      APP_RATE_LIMIT_PER_MINUTE: "0",
      ...options.env,
    };
    const start = async (seed: string, port?: number) => {
      const node = await startNodeProcess({
        env,
        seed,
        logFile: path.join(LOG_DIR, `${seed}.log`),
        readyTimeoutMs: SERVING_TIMEOUT_MS,
        ...(port !== undefined ? { port } : {}),
      });
      started.push(node);
      return node;
    };
    // No preset secret: the nodes bootstrap one between them, as a fresh cluster does.
    const nodes = await Promise.all(options.seeds.map((seed) => start(seed)));
    for (const node of nodes) await registerNode(chain.admin, chain.deployment, { seed: node.seed, url: node.url });
    await Promise.all(nodes.map((n) => waitForServing(n.url, SERVING_TIMEOUT_MS)));
    const app = await registerDemoApp(chain.admin, { seed: "bench-sync-app" });
    return {
      chain,
      nodes,
      appSeed: app.seed,
      target: (node) => {
        const identity = simulatedIdentity(node.seed);
        return {
          url: node.url,
          nodePid: node.pid,
          nodeWallet: identity.wallet,
          nodeTeePubkeyHex: toHex(identity.teePubkey),
          appSeed: app.seed,
        };
      },
      restart: (node) => start(node.seed, node.port),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
