// Real node processes on a real dev chain for cluster tests (test/cluster/), with short tick and
// sync intervals so convergence happens within seconds.
import path from "node:path";
import { startDevchain, type Devchain } from "../../scripts/devchain/index.js";
import {
  deploymentEnv,
  registerNode,
  startNodeProcess,
  waitForServing,
  type NodeProcess,
} from "../../scripts/cluster/index.js";
import { simulatedIdentity } from "../../enclave/tee/simulated.js";
import type { NodeTarget } from "./app-request.js";

export const SYNC_INTERVAL_MS = 300;

export interface ClusterFixture {
  chain: Devchain;
  env: Record<string, string>;
  /** Starts a node process; pass `port` to restart a node at the URL it is registered with. */
  start(seed: string, extraEnv?: Record<string, string>, port?: number): Promise<NodeProcess>;
  register(node: NodeProcess): Promise<bigint>;
  stop(): Promise<void>;
}

export function targetOf(node: { url: string; wallet: string; seed: string }): NodeTarget {
  return { url: node.url, wallet: node.wallet, teePublicKey: simulatedIdentity(node.seed).teePubkey };
}

export async function startClusterFixture(name: string, env: Record<string, string> = {}): Promise<ClusterFixture> {
  const chain = await startDevchain();
  const baseEnv = {
    ...deploymentEnv(chain.deployment),
    KMS_NODE_TICK_MS: "300",
    DATA_SYNC_INTERVAL_MS: String(SYNC_INTERVAL_MS),
    PEER_TIMEOUT_MS: "1500",
    RATE_LIMIT_PER_MINUTE: "0",
    NONCE_RATE_LIMIT_PER_MINUTE: "0",
    WALLET_RATE_LIMIT_PER_MINUTE: "0",
    APP_RATE_LIMIT_PER_MINUTE: "0",
    ...env,
  };
  const started: NodeProcess[] = [];
  return {
    chain,
    env: baseEnv,
    async start(seed, extraEnv = {}, port) {
      const node = await startNodeProcess({
        env: { ...baseEnv, ...extraEnv },
        seed,
        ...(port !== undefined ? { port } : {}),
        logFile: path.join("logs", "test-cluster", name, `${seed}.log`),
      });
      started.push(node);
      return node;
    },
    register: (node) => registerNode(chain.admin, chain.deployment, { seed: node.seed, url: node.url }),
    async stop() {
      await Promise.allSettled(started.map((n) => n.kill()));
      await chain.stop();
    },
  };
}

export { waitForServing };
