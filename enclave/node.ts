// Composition root: the only module that knows every part. Builds the TEE, chain access,
// auth, master-secret lifecycle, store and HTTP app for one node, and runs its tick loop.
// No module-level state, so tests can run several nodes in one process.
import { serve, type ServerType } from "@hono/node-server";
import { createPublicClient, http, type Address, type Hex, type PublicClient } from "viem";
import { NonceStore } from "./auth/nonce-store.js";
import { PopVerifier } from "./auth/pop-verifier.js";
import { RegistryAuthorizer } from "./auth/registry-authorizer.js";
import { submitMasterSecretHash } from "./chain/master-secret-hash-writer.js";
import { RegistryReader } from "./chain/registry-reader.js";
import { InstanceStatus } from "./chain/types.js";
import { MasterSecretManager, masterSecretHashOf } from "./cluster/master-secret.js";
import { PeerClient } from "./cluster/peer-client.js";
import { PeerDirectory } from "./cluster/peer-directory.js";
import { Replicator } from "./cluster/replicator.js";
import { fetchMasterSecretFromPeers } from "./cluster/secret-adoption.js";
import { SyncHandler } from "./cluster/sync-handler.js";
import type { Config } from "./config.js";
import { hexToBytes } from "./crypto/bytes.js";
import { makeCertificatePolicy, type CertificatePolicy } from "./crypto/ca.js";
import { createHttpApp } from "./http/app.js";
import type { HttpDeps } from "./http/context.js";
import { NodeMetrics } from "./http/metrics.js";
import { buildNodesView, buildStatusView } from "./http/views.js";
import { createLogger, type Logger } from "./log.js";
import { openNodeStore } from "./node-store.js";
import type { NodesView, StatusView } from "./protocol/views.js";
import { ServingKeys } from "./serving-keys.js";
import type { KvStoreApi } from "./store/api.js";
import { KmsError } from "./errors.js";
import { OdynTee } from "./tee/odyn.js";
import { SimulatedTee } from "./tee/simulated.js";
import type { Tee } from "./tee/tee.js";

export const NODE_VERSION = "0.1.0";

export interface NodeOptions {
  /** Overrides the TEE chosen from the config (tests). */
  tee?: Tee;
  log?: Logger;
}

/** Whether this node's own instance is registered and allowed to serve (checked every tick). */
interface SelfRegistration {
  registered: boolean;
  reason: string;
  /** The URL the registry lists for this node (what peers and apps dial). */
  instanceUrl?: string;
}

export class KmsNode {
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  readonly chain: PublicClient;
  readonly registry: RegistryReader;
  readonly masterSecret: MasterSecretManager;
  private keys: ServingKeys | undefined;
  /** Records are sealed under keys of one master secret, so a store lives and dies with it. */
  private kvStore: KvStoreApi | undefined;
  /** Hash of the secret the store was opened for (not a second copy of the secret). */
  private storeSecretHash: Hex | undefined;
  private self: SelfRegistration = { registered: false, reason: "registration not checked yet" };
  readonly directory: PeerDirectory;
  readonly peerClient: PeerClient;
  readonly replicator: Replicator;
  private server: ServerType | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncRunning = false;
  private listeningPort = 0;
  private readonly certificatePolicy: CertificatePolicy;

  private constructor(
    readonly config: Config,
    readonly tee: Tee,
    readonly wallet: string,
    readonly teePublicKey: Uint8Array,
    log: Logger,
  ) {
    this.log = log;
    this.certificatePolicy = makeCertificatePolicy({
      dnsSuffixes: config.CERT_ALLOWED_DNS_SUFFIXES,
      maxValidityDays: config.CERT_MAX_VALIDITY_DAYS,
    });
    this.metrics = new NodeMetrics(() => this.kvStore?.stats());
    this.chain = createPublicClient({
      transport: http(config.CHAIN_RPC_URL, { timeout: config.CHAIN_TIMEOUT_MS, retryCount: 1 }),
      pollingInterval: 250,
    }) as PublicClient;
    this.registry = new RegistryReader({
      client: this.chain,
      novaAppRegistry: config.NOVA_APP_REGISTRY_ADDRESS,
      kmsRegistry: config.KMS_REGISTRY_ADDRESS,
    });
    const policy = { enclaveMode: config.IN_ENCLAVE };
    this.directory = new PeerDirectory({ registry: this.registry, kmsAppId: config.KMS_APP_ID, selfWallet: wallet, policy, log });
    this.peerClient = new PeerClient({ tee, ownWallet: wallet, timeoutMs: config.PEER_TIMEOUT_MS, policy });
    this.replicator = new Replicator({
      store: () => (this.serving ? this.kvStore : undefined),
      syncKey: () => (this.serving ? this.keys?.syncMacKey : undefined),
      peers: () => this.directory.peers(),
      client: this.peerClient,
      log,
    });
    const preset = config.MASTER_SECRET_HEX ? hexToBytes(config.MASTER_SECRET_HEX) : undefined;
    this.masterSecret = new MasterSecretManager(
      {
        readHash: () => this.registry.masterSecretHash(),
        submitHash: (hash: Hex) =>
          submitMasterSecretHash({
            client: this.chain,
            tee: this.tee,
            kmsRegistry: config.KMS_REGISTRY_ADDRESS as Address,
            hash,
            receiptTimeoutMs: Math.max(config.CHAIN_TIMEOUT_MS, 30_000),
          }),
        randomBytes: (n) => this.tee.randomBytes(n),
        peerCount: () => this.directory.peers().length,
        adoptFromPeers: (expectedHash) =>
          fetchMasterSecretFromPeers({ client: this.peerClient, peers: this.directory.peers(), expectedHash, log }),
      },
      log,
      preset,
    );
    this.masterSecret.onChange((secret) => this.useSecret(secret));
  }

  /**
   * Switches to a new served secret. The store is kept while the secret stays the same (a pause in
   * serving loses nothing); a different secret starts an empty store, because records sealed
   * under the old one cannot be opened (README "Cluster", owner reset).
   */
  private useSecret(secret: Uint8Array | undefined): void {
    if (!secret) {
      this.keys = undefined;
      return;
    }
    const keys = new ServingKeys(secret, this.certificatePolicy);
    const newStore = !this.kvStore || this.storeSecretHash !== masterSecretHashOf(secret);
    if (newStore) {
      this.kvStore = openNodeStore(this.config, { nodeId: this.wallet, dataKey: (appId) => keys.dataKey(appId) });
      this.storeSecretHash = masterSecretHashOf(secret);
      this.replicator.beginRecovery(this.kvStore.epoch, this.masterSecret.status().origin !== "generated");
    }
    this.keys = keys;
    // Recover (pull a peer's snapshot) now rather than at the next sync interval.
    if (newStore) void this.syncRound();
  }

  static async create(config: Config, options: NodeOptions = {}): Promise<KmsNode> {
    const tee =
      options.tee ??
      (config.IN_ENCLAVE ? new OdynTee({ url: config.ODYN_URL }) : new SimulatedTee(config.SIM_NODE_SEED ? { seed: config.SIM_NODE_SEED } : {}));
    const wallet = (await tee.address()).toLowerCase();
    const teePublicKey = await tee.encryptionPublicKey();
    const log = options.log ?? createLogger(config.LOG_LEVEL, { wallet });
    return new KmsNode(config, tee, wallet, teePublicKey, log);
  }

  /** True when this node may answer /kms/*: registered on chain and holding the cluster secret. */
  get serving(): boolean {
    return this.self.registered && this.keys !== undefined;
  }

  /** Serving, and its KV store has caught up with its peers (what /status calls available). */
  get available(): boolean {
    return this.serving && this.kvStore !== undefined && this.replicator.isRecovered(this.kvStore.epoch);
  }

  get port(): number {
    return this.listeningPort;
  }

  httpDeps(): HttpDeps {
    const { config } = this;
    const nonces = new NonceStore({ ttlMs: config.POP_TIMEOUT_SECONDS * 1000, maxEntries: config.NONCE_STORE_MAX });
    return {
      config,
      log: this.log,
      metrics: this.metrics,
      tee: this.tee,
      ownWallet: this.wallet,
      nonces,
      pop: new PopVerifier({ nonces, ownWallet: this.wallet, windowSeconds: config.POP_TIMEOUT_SECONDS }),
      authorizer: new RegistryAuthorizer({ registry: this.registry, ttlMs: config.AUTH_CACHE_TTL_SECONDS * 1000 }),
      servingKeys: () => (this.serving ? this.keys : undefined),
      store: () => {
        if (!this.kvStore) throw new KmsError("service_unavailable", `Service not ready: ${this.unavailableReason()}`);
        if (!this.replicator.isRecovered(this.kvStore.epoch)) {
          throw new KmsError("service_unavailable", "KV store is recovering from peers; retry shortly");
        }
        return this.kvStore;
      },
      unavailableReason: () => this.unavailableReason(),
      sync: new SyncHandler({
        store: () => (this.serving ? this.kvStore : undefined),
        masterSecret: () => (this.serving ? this.masterSecret.secret : undefined),
        storeRecovered: () => this.kvStore !== undefined && this.replicator.isRecovered(this.kvStore.epoch),
        log: this.log,
      }),
      status: async () => this.statusView(),
      nodes: async () => this.nodesView(),
    };
  }

  unavailableReason(): string {
    if (!this.self.registered) return this.self.reason;
    const secret = this.masterSecret.status();
    if (!secret.ready) return secret.reason;
    return this.available ? "serving" : "KV store recovering from peers";
  }

  /** Starts the HTTP server and the tick loop; resolves once listening. */
  async start(): Promise<void> {
    const app = createHttpApp(this.httpDeps());
    await new Promise<void>((resolve) => {
      this.server = serve({ fetch: app.fetch, hostname: this.config.BIND_HOST, port: this.config.PORT }, (info) => {
        this.listeningPort = info.port;
        resolve();
      });
    });
    this.log.info({ host: this.config.BIND_HOST, port: this.listeningPort, mode: this.tee.kind }, "listening");
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.KMS_NODE_TICK_MS);
    this.syncTimer = setInterval(() => void this.syncRound(), this.config.DATA_SYNC_INTERVAL_MS);
  }

  /** One lifecycle step: our own registration, the peer list, then the master secret. Never throws. */
  async tick(): Promise<void> {
    try {
      this.self = await this.checkSelfRegistration();
      await this.directory.refresh().catch((e: Error) => this.log.warn({ err: e.message.split("\n")[0] }, "peer refresh failed"));
      if (this.self.registered) await this.masterSecret.tick();
    } catch (e) {
      this.log.warn({ err: (e as Error).message.split("\n")[0] }, "tick failed");
    }
  }

  /** One replication round, unless the previous one is still running. */
  async syncRound(): Promise<void> {
    if (this.syncRunning) return;
    this.syncRunning = true;
    try {
      await this.replicator.round();
    } finally {
      this.syncRunning = false;
    }
  }

  private async checkSelfRegistration(): Promise<SelfRegistration> {
    let instance;
    try {
      instance = await this.registry.getInstanceByWallet(this.wallet as Address);
    } catch {
      // Keep the previous verdict through a registry outage; authorization answers 503 meanwhile.
      return { ...this.self, reason: this.self.registered ? this.self.reason : "registry unreadable" };
    }
    if (instance.id === 0n) return { registered: false, reason: "this node's wallet is not registered on chain" };
    if (instance.appId !== this.config.KMS_APP_ID) return { registered: false, reason: "this node is registered under another app" };
    if (instance.status !== InstanceStatus.ACTIVE) return { registered: false, reason: "this node's instance is not ACTIVE" };
    if (!instance.zkVerified) return { registered: false, reason: "this node's instance is not zkVerified" };
    const configured = this.config.NODE_INSTANCE_URL?.replace(/\/+$/, "");
    if (configured && instance.instanceUrl.replace(/\/+$/, "") !== configured && !this.self.registered) {
      // Peers and apps dial the registered URL; a mismatch usually means a stale registration.
      this.log.warn({ registered: instance.instanceUrl, configured }, "registered instanceUrl differs from NODE_INSTANCE_URL");
    }
    return { registered: true, reason: "registered", instanceUrl: instance.instanceUrl };
  }

  private statusView(): StatusView {
    const { config } = this;
    return buildStatusView({
      version: NODE_VERSION,
      inEnclave: config.IN_ENCLAVE,
      wallet: this.wallet,
      teePublicKey: this.teePublicKey,
      kmsAppId: config.KMS_APP_ID,
      kmsRegistryAddress: config.KMS_REGISTRY_ADDRESS,
      configuredUrl: config.NODE_INSTANCE_URL,
      registration: { registered: this.self.registered, instanceUrl: this.self.instanceUrl },
      available: this.available,
      reason: this.unavailableReason(),
      secret: this.masterSecret.status(),
      members: this.directory.members().members.length,
      peers: this.directory.peers().length,
      store: this.kvStore?.stats(),
    });
  }

  private nodesView(): NodesView {
    const { members, refreshedAt } = this.directory.members();
    return buildNodesView({
      kmsAppId: this.config.KMS_APP_ID,
      members,
      refreshedAt,
      syncStates: this.replicator.peerStates(),
      lagOf: (wallet) => this.replicator.lagOf(wallet),
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.peerClient.close();
    await this.tee.close();
  }
}
