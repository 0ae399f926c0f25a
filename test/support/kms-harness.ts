// A real dev chain (anvil + our contracts) with KMS nodes running in this process on loopback
// ports, and helpers to register nodes and apps the way the Nova platform would.
import { toHex, type Address } from "viem";
import { startDevchain, type Devchain } from "../../scripts/devchain/index.js";
import { loadConfig } from "../../enclave/config.js";
import { KmsNode } from "../../enclave/node.js";
import { createLogger } from "../../enclave/log.js";
import { SimulatedTee, simulatedIdentity } from "../../enclave/tee/simulated.js";
import { randomUUID } from "node:crypto";
import { keccak256, stringToHex } from "viem";

export interface RunningNode {
  node: KmsNode;
  url: string;
  wallet: string;
  seed: string;
  instanceId: bigint | undefined;
  stop(): Promise<void>;
}

export interface TestApp {
  tee: SimulatedTee;
  wallet: string;
  appId: bigint;
  versionId: bigint;
  instanceId: bigint;
}

export interface NodeStartOptions {
  seed?: string;
  env?: Record<string, string>;
  /** Register (ACTIVE + zkVerified) before starting; default true. */
  register?: boolean;
  /** Where the node's JSON log lines go (default: nowhere at LOG_LEVEL=silent). */
  logDestination?: { write(line: string): void };
}

export class KmsHarness {
  private readonly nodes: RunningNode[] = [];

  private constructor(readonly chain: Devchain) {}

  static async start(): Promise<KmsHarness> {
    return new KmsHarness(await startDevchain());
  }

  baseEnv(): Record<string, string> {
    const d = this.chain.deployment;
    return {
      SIMULATION_MODE: "true",
      CHAIN_RPC_URL: d.rpcUrl,
      NOVA_APP_REGISTRY_ADDRESS: d.novaAppRegistry,
      KMS_REGISTRY_ADDRESS: d.kmsRegistry,
      KMS_APP_ID: d.kmsAppId.toString(),
      PORT: "0",
      KMS_NODE_TICK_MS: "200",
      LOG_LEVEL: "silent",
    };
  }

  async startNode(options: NodeStartOptions = {}): Promise<RunningNode> {
    const seed = options.seed ?? `node-${randomUUID()}`;
    const env: Record<string, string> = { ...this.baseEnv(), SIM_NODE_SEED: seed, ...options.env };
    // Enclave mode takes its identity from Odyn (an Odyn simulator seeded with `seed` in tests).
    if (env.IN_ENCLAVE === "true") {
      delete env.SIM_NODE_SEED;
      env.SIMULATION_MODE = "false";
    }
    const config = loadConfig(env);
    const node = await KmsNode.create(config, { log: createLogger(config.LOG_LEVEL, {}, options.logDestination) });
    await node.start();
    const url = `http://127.0.0.1:${node.port}`;
    const running: RunningNode = { node, url, wallet: node.wallet, seed, instanceId: undefined, stop: () => node.stop() };
    if (options.register ?? true) running.instanceId = await this.registerNode(seed, url);
    this.nodes.push(running);
    return running;
  }

  /** Registers a simulated node identity as an ACTIVE, zkVerified instance of the KMS app. */
  async registerNode(seed: string, url: string): Promise<bigint> {
    const identity = simulatedIdentity(seed);
    const d = this.chain.deployment;
    const instanceId = await this.chain.admin.registerInstance({
      appId: d.kmsAppId,
      versionId: d.kmsVersionId,
      teeWallet: identity.wallet as Address,
      teePubkey: identity.teePubkeySpkiHex,
      instanceUrl: url,
    });
    await this.chain.admin.setZkVerified(instanceId, true);
    return instanceId;
  }

  /** A new app with one enrolled version and one ACTIVE, zkVerified instance held by a SimulatedTee. */
  async registerApp(options: { seed?: string; zkVerified?: boolean } = {}): Promise<TestApp> {
    const seed = options.seed ?? `app-${randomUUID()}`;
    const tee = new SimulatedTee({ seed });
    const identity = simulatedIdentity(seed);
    const admin = this.chain.admin;
    const appId = await admin.createApp({ dappContract: "0x0000000000000000000000000000000000000000", metadataUri: "test" });
    const versionId = await admin.enrollVersion({ appId, versionName: "v1", codeMeasurement: keccak256(stringToHex(seed)) });
    const instanceId = await admin.registerInstance({
      appId,
      versionId,
      teeWallet: identity.wallet as Address,
      teePubkey: toHex(identity.teePubkeySpki),
      instanceUrl: "https://app.invalid",
      funding: 0n,
    });
    if (options.zkVerified ?? true) await admin.setZkVerified(instanceId, true);
    return { tee, wallet: identity.wallet, appId, versionId, instanceId };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    await this.chain.stop();
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 15_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET a JSON document (status pages in tests). */
export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}
