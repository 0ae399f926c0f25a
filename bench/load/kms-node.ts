// One KMS node under test, as an operator would run it: a dev chain, the node in its own process
// (`node --import tsx enclave/main.ts`, spawned directly so that its pid is the process whose CPU
// we read), registered on chain as an ACTIVE zkVerified KMS instance, plus one registered bench
// app whose SimulatedTee seed the load generator uses to act as that app.
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import getPort from "get-port";
import { keccak256, stringToHex, toHex, type Address } from "viem";
import { simulatedIdentity } from "../../enclave/tee/sim-keys.js";
import { fetchStatus } from "../../scripts/cluster/wait.js";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { startDevchain, type Devchain } from "../../scripts/devchain/start.js";
import { spawnChild, type BenchChild } from "./child.js";

/** What a load generator needs to act as the bench app against the node (all JSON-serializable). */
export interface LoadTarget {
  url: string;
  nodePid: number;
  /** From the chain registration, never from the node's /status. */
  nodeWallet: string;
  nodeTeePubkeyHex: string;
  appSeed: string;
}

export interface BenchNode {
  target: LoadTarget;
  chain: Devchain;
  node: BenchChild;
  /** Stops the node (SIGTERM, so a --cpu-prof profile gets written) and then the chain. */
  stop(): Promise<void>;
}

export interface BenchNodeOptions {
  /** Extra node.js flags for the node process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment for the node. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startBenchNode(options: BenchNodeOptions = {}): Promise<BenchNode> {
  const chain = await startDevchain();
  let node: BenchChild | undefined;
  try {
    const d = chain.deployment;
    const port = await getPort({ host: "127.0.0.1" });
    const url = `http://127.0.0.1:${port}`;
    const nodeSeed = `bench-node-${randomUUID()}`;
    const nodeIdentity = simulatedIdentity(nodeSeed);

    // Register before the node starts, so its first tick finds itself on chain (no waiting for a
    // later tick); the admin call also funds the wallet for its setMasterSecretHash transaction.
    const nodeInstance = await chain.admin.registerInstance({
      appId: d.kmsAppId,
      versionId: d.kmsVersionId,
      teeWallet: nodeIdentity.wallet as Address,
      teePubkey: nodeIdentity.teePubkeySpkiHex,
      instanceUrl: url,
    });
    await chain.admin.setZkVerified(nodeInstance, true);

    const appSeed = `bench-app-${randomUUID()}`;
    const app = simulatedIdentity(appSeed);
    const appId = await chain.admin.createApp({
      dappContract: "0x0000000000000000000000000000000000000000",
      metadataUri: "bench",
    });
    const versionId = await chain.admin.enrollVersion({
      appId,
      versionName: "bench",
      codeMeasurement: keccak256(stringToHex(appSeed)),
    });
    const appInstance = await chain.admin.registerInstance({
      appId,
      versionId,
      teeWallet: app.wallet as Address,
      teePubkey: toHex(app.teePubkeySpki),
      instanceUrl: "https://bench-app.invalid",
      funding: 0n,
    });
    await chain.admin.setZkVerified(appInstance, true);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      SIMULATION_MODE: "true",
      SIM_NODE_SEED: nodeSeed,
      MASTER_SECRET_HEX: randomBytes(32).toString("hex"),
      CHAIN_RPC_URL: d.rpcUrl,
      NOVA_APP_REGISTRY_ADDRESS: d.novaAppRegistry,
      KMS_REGISTRY_ADDRESS: d.kmsRegistry,
      KMS_APP_ID: d.kmsAppId.toString(),
      PORT: String(port),
      NODE_INSTANCE_URL: url,
      // Fast enough to become ready quickly, slow enough that the tick's chain reads stay noise.
      KMS_NODE_TICK_MS: "1000",
      // One node: its writes cannot be replicated (the kv bench measures the store, not the quorum).
      WRITE_QUORUM: "1",
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_MINUTE: "0",
      NONCE_RATE_LIMIT_PER_MINUTE: "0",
      WALLET_RATE_LIMIT_PER_MINUTE: "0",
      APP_RATE_LIMIT_PER_MINUTE: "0",
      ...options.env,
    };
    node = spawnChild(
      "kms node",
      process.execPath,
      [...(options.nodeArgs ?? []), "--import", "tsx", path.join(REPO_ROOT, "enclave/main.ts")],
      {
        cwd: REPO_ROOT,
        env,
      },
    );
    await waitUntilServing(url, node, options.readyTimeoutMs ?? 60_000);

    const running = node;
    let stopping: Promise<void> | undefined;
    return {
      target: {
        url,
        nodePid: node.pid,
        nodeWallet: nodeIdentity.wallet,
        nodeTeePubkeyHex: toHex(nodeIdentity.teePubkey),
        appSeed,
      },
      chain,
      node,
      stop: () =>
        (stopping ??= (async () => {
          // A node that writes a CPU profile on exit needs more than the default grace.
          await running.stop(30_000);
          await chain.stop();
        })()),
    };
  } catch (e) {
    await node?.stop();
    await chain.stop();
    throw e;
  }
}

async function waitUntilServing(url: string, node: BenchChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  let exited = false;
  void node.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the node exited before it was serving\n${node.tail()}`);
    try {
      const status = await fetchStatus(url);
      if (status.node.service_available) return;
      last = status.kms.reason;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the node was not serving within ${timeoutMs} ms (${last})\n${node.tail()}`);
}
