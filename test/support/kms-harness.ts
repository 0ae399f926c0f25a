// A real dev chain (anvil + our contracts) with KMS nodes running in this process on loopback
// ports, and helpers to register nodes and apps the way the Nova platform would.
import { startDevchain, type Devchain } from "../../scripts/devchain/index.js";
import { registerDemoApp, registerNode } from "../../scripts/cluster/registration.js";
import { loadConfig } from "../../enclave/config.js";
import { KmsNode } from "../../enclave/node.js";
import { createLogger } from "../../enclave/log.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { randomUUID } from "node:crypto";
import { NovaKmsClient, type NovaKmsClientOptions } from "../../client/nova-kms-client.js";
import type { AppTee } from "../../client/signed-request.js";

export { waitFor } from "./wait.js";
import { nodesViewSchema, statusViewSchema, type NodesView, type StatusView } from "../../enclave/protocol/views.js";

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

  /** Our SDK as `tee`'s app, over this chain's registry (http allowed; registry order unless told). */
  sdkClient(tee: AppTee, overrides: Partial<NovaKmsClientOptions> = {}): NovaKmsClient {
    return new NovaKmsClient({
      tee,
      registry: this.chain.reader,
      kmsAppId: this.chain.deployment.kmsAppId,
      allowHttp: true,
      nodeSelection: "ordered",
      ...overrides,
    });
  }

  /** `npx` arguments that run our CLI against this chain (append the app seed and the command). */
  cliArgs(): string[] {
    const d = this.chain.deployment;
    return [
      "tsx",
      "client/cli.ts",
      "--rpc",
      d.rpcUrl,
      "--registry",
      d.novaAppRegistry,
      "--kms-app-id",
      d.kmsAppId.toString(),
    ];
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
      // Most harness tests run one node, which cannot replicate; quorum tests start real clusters.
      WRITE_QUORUM: "1",
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
    const running: RunningNode = {
      node,
      url,
      wallet: node.wallet,
      seed,
      instanceId: undefined,
      stop: () => node.stop(),
    };
    if (options.register ?? true) running.instanceId = await this.registerNode(seed, url);
    this.nodes.push(running);
    return running;
  }

  /** Registers a simulated node identity as an ACTIVE, zkVerified instance of the KMS app. */
  registerNode(seed: string, url: string): Promise<bigint> {
    return registerNode(this.chain.admin, this.chain.deployment, { seed, url });
  }

  /** A new app with one enrolled version and one ACTIVE (by default zkVerified) instance held by a SimulatedTee. */
  async registerApp(options: { seed?: string; zkVerified?: boolean } = {}): Promise<TestApp> {
    const seed = options.seed ?? `app-${randomUUID()}`;
    const app = await registerDemoApp(this.chain.admin, {
      seed,
      ...(options.zkVerified === undefined ? {} : { zkVerified: options.zkVerified }),
    });
    return {
      tee: new SimulatedTee({ seed }),
      wallet: app.wallet,
      appId: app.appId,
      versionId: app.versionId,
      instanceId: app.instanceId,
    };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    await this.chain.stop();
  }
}

/** GET a JSON document. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON document of any shape; callers assert on its fields.
export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}

/** GET /status of one of our nodes, checked against the schema the node builds it with. */
export async function getStatus(nodeUrl: string): Promise<StatusView> {
  return statusViewSchema.parse(await getJson(`${nodeUrl}/status`));
}

/** GET /nodes of one of our nodes, checked against its schema. */
export async function getNodes(nodeUrl: string): Promise<NodesView> {
  return nodesViewSchema.parse(await getJson(`${nodeUrl}/nodes`));
}

/** Whether the node reports itself serving (/status `node.service_available`). */
export async function isServing(nodeUrl: string): Promise<boolean> {
  return (await getStatus(nodeUrl)).node.service_available;
}
