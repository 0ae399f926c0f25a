// Composition root: the only module that knows every part. Builds the TEE, chain access,
// auth, master-secret lifecycle, store and HTTP app for one node, and runs its tick loop.
// No module-level state, so tests can run several nodes in one process.
import { serve, type ServerType } from "@hono/node-server";
import { createPublicClient, http, type Address, type Hex, type PublicClient } from "viem";
import { createPopAuth } from "./auth/pop-auth.js";
import { RegistryAuthorizer } from "./auth/registry-authorizer.js";
import { submitMasterSecretHash } from "./chain/master-secret-hash-writer.js";
import { RegistryReader } from "./chain/registry-reader.js";
import { DepartedStores } from "./cluster/departed-stores.js";
import { MasterSecretManager } from "./cluster/master-secret.js";
import { MembershipLapse } from "./cluster/membership-lapse.js";
import { PeerClient } from "./cluster/peer-client.js";
import { PeerDirectory } from "./cluster/peer-directory.js";
import { Replicator } from "./cluster/replicator.js";
import { fetchMasterSecretFromPeers } from "./cluster/secret-adoption.js";
import { SyncHandler } from "./cluster/sync-handler.js";
import { WriteQuorum } from "./cluster/write-quorum.js";
import { ClusterCommits } from "./cluster/key-commits.js";
import { KeyFreshness } from "./cluster/key-freshness.js";
import { LeaseTable } from "./cluster/key-leases.js";
import { KeyRecords, resourceId, type Resource } from "./keys/key-records.js";
import { maintainKeys } from "./keys/key-maintenance.js";
import { NamedKeys } from "./keys/named-keys.js";
import { Secrets } from "./keys/secrets.js";
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
import { PeriodicTask } from "./periodic-task.js";
import { Readiness } from "./readiness.js";
import { ServingKeys } from "./serving-keys.js";
import { ServingState } from "./serving-state.js";
import { ServerChannel } from "./http/server-channel.js";
import type { KvStoreApi } from "./store/api.js";
import { OdynTee, odynResponseLimit } from "./tee/odyn.js";
import { SimulatedTee } from "./tee/simulated.js";
import type { Tee } from "./tee/tee.js";

export const NODE_VERSION = "0.1.0";

export interface NodeOptions {
  /** Overrides the TEE chosen from the config (tests). */
  tee?: Tee;
  log?: Logger;
}

export class KmsNode {
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  readonly chain: PublicClient;
  readonly registry: RegistryReader;
  readonly masterSecret: MasterSecretManager;
  readonly readiness: Readiness;
  private readonly state: ServingState;
  readonly directory: PeerDirectory;
  readonly peerClient: PeerClient;
  readonly replicator: Replicator;
  readonly writeQuorum: WriteQuorum;
  /** Store epochs of members that left (shared by the replicator and the sync handler). */
  private readonly departed = new DepartedStores();
  private readonly lapse = new MembershipLapse();
  private server: ServerType | undefined;
  /** Registration, peer list and master secret, every KMS_NODE_TICK_MS. */
  private readonly lifecycle: PeriodicTask;
  /** Replication rounds, every DATA_SYNC_INTERVAL_MS. */
  private readonly replication: PeriodicTask;
  private listeningPort = 0;
  private readonly certificatePolicy: CertificatePolicy;
  /** Named keys and secrets (PROTOCOL.md §12), their leases, freshness and schedule. */
  readonly namedKeys: NamedKeys;
  readonly secrets: Secrets;
  readonly keyFreshness: KeyFreshness;
  private readonly keyLeases = new LeaseTable();
  private readonly keyMaintenance: PeriodicTask;
  /** What scheduled key maintenance did since start (for /status). */
  private readonly maintained = { rotated: 0, erased: 0, failed: 0 };

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
    this.metrics = new NodeMetrics({
      storeStats: () => this.state.currentStore?.stats(),
      detail: config.METRICS_DETAIL,
    });
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
    this.directory = new PeerDirectory({
      registry: this.registry,
      kmsAppId: config.KMS_APP_ID,
      selfWallet: wallet,
      policy,
      log,
    });
    this.peerClient = new PeerClient({
      tee,
      ownWallet: wallet,
      timeoutMs: config.PEER_TIMEOUT_MS,
      policy,
      maxResponseBytes: config.SYNC_MAX_BODY_BYTES,
    });
    this.state = new ServingState({
      makeKeys: (secret) => new ServingKeys(secret, this.certificatePolicy),
      openStore: (keys) => this.openStore(keys),
      serving: () => this.readiness.serving,
      available: () => this.readiness.available,
      reason: () => this.readiness.reason(),
    });
    this.replicator = new Replicator({
      store: () => this.state.servingStore(),
      syncKey: () => this.state.servingKeys()?.syncMacKey,
      peers: () => this.directory.peers(),
      members: () => this.otherMembers(),
      departed: this.departed,
      onStaleStore: () => this.rebuildStore(),
      client: this.peerClient,
      log,
      onAck: () => this.writeQuorum.notify(),
    });
    this.writeQuorum = new WriteQuorum({
      setting: config.WRITE_QUORUM,
      timeoutMs: config.WRITE_QUORUM_TIMEOUT_MS,
      progress: {
        peersHolding: (position) => this.replicator.peersHolding(position),
        peerCount: () => this.directory.peers().length,
        reachablePeerCount: () => this.replicator.reachablePeerCount(),
        pushNow: () => this.replicator.pushNow(),
      },
      onInsufficient: () => this.metrics.insufficientReplicas.inc(),
    });
    this.metrics.trackWritesWaiting(() => this.writeQuorum.waiting);
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
    this.readiness = new Readiness({
      registry: this.registry,
      wallet,
      kmsAppId: config.KMS_APP_ID,
      configuredUrl: config.NODE_INSTANCE_URL,
      log,
      secret: () => this.masterSecret.status(),
      holdsKeys: () => this.state.holdsKeys,
      storeRecovered: () => this.storeRecovered(),
    });
    this.masterSecret.onChange((secret) => this.useSecret(secret));
    this.keyFreshness = new KeyFreshness({
      catchUp: () => this.replicator.catchUpReserved(),
      memberCount: () => this.memberCount(),
      reachesMajority: () => 1 + this.replicator.reachablePeerCount() >= Math.floor(this.memberCount() / 2) + 1,
    });
    const keyRecords = new KeyRecords(() => this.state.requireStore());
    const commits = new ClusterCommits({
      self: wallet,
      leases: this.keyLeases,
      peers: () => this.directory.peers(),
      memberCount: () => this.memberCount(),
      askLease: (peer, resource, leaseId, ttlMs) =>
        this.peerClient.call(
          peer,
          { type: "key_lease", resource: leaseResourceJson(resource), lease_id: leaseId, ttl_ms: ttlMs },
          { syncKey: this.state.requireKeys().syncMacKey },
        ),
      releaseLease: async (peer, resource, leaseId) => {
        await this.peerClient.call(
          peer,
          { type: "key_release", resource: leaseResourceJson(resource), lease_id: leaseId },
          { syncKey: this.state.requireKeys().syncMacKey },
        );
      },
      merge: (records) => this.state.requireStore().merge(records),
      replicated: (position, peersNeeded) => this.writeQuorum.acknowledgeBy(position, peersNeeded),
      fresh: () => this.keyFreshness.ensure(),
      log,
      // Room left for the replica wait and the reply before REQUEST_TIMEOUT_MS.
      startDeadlineMs: Math.max(1_000, config.REQUEST_TIMEOUT_MS - config.WRITE_QUORUM_TIMEOUT_MS - 1_000),
    });
    this.namedKeys = new NamedKeys({
      records: keyRecords,
      commits,
      keyEncryptionKey: (appId, name) => this.state.requireKeys().keyEncryptionKey(appId, name),
      random: (n) => this.tee.randomBytes(n),
      destroyDelayMs: Math.round(config.KEY_DESTROY_DELAY_HOURS * 3_600_000),
    });
    this.secrets = new Secrets({ records: keyRecords, commits });
    this.keyMaintenance = new PeriodicTask(config.KEY_MAINTENANCE_INTERVAL_MS, async () => {
      if (!this.available) return;
      const done = await maintainKeys({
        keys: this.namedKeys,
        records: keyRecords,
        preferred: () => this.preferredForMaintenance(),
        intervalMs: config.KEY_MAINTENANCE_INTERVAL_MS,
        log,
      });
      this.maintained.rotated += done.rotated;
      this.maintained.erased += done.erased;
      this.maintained.failed += done.failed;
    });
    this.lifecycle = new PeriodicTask(config.KMS_NODE_TICK_MS, () => this.tickOnce());
    this.replication = new PeriodicTask(config.DATA_SYNC_INTERVAL_MS, () => this.replicator.round());
  }

  /** A new served secret; a new store starts recovering from peers at once, not at the next round. */
  private useSecret(secret: Uint8Array | undefined): void {
    const opened = this.state.useSecret(secret);
    if (!opened) return;
    this.replicator.beginRecovery(opened.epoch, this.masterSecret.status().origin !== "generated");
    void this.syncRound();
  }

  /** Registered members, this node included (what key changes count a majority of). */
  private memberCount(): number {
    return Math.max(1, this.directory.members().members.length);
  }

  /** The lowest wallet among this node and the peers it reaches does scheduled key work first. */
  private preferredForMaintenance(): boolean {
    const states = this.replicator.peerStates();
    return this.directory
      .peers()
      .filter((p) => states.get(p.wallet)?.lastError === undefined)
      .every((p) => p.wallet > this.wallet);
  }

  /** Every registered member but this node, including those it never contacts. */
  private otherMembers(): string[] {
    return this.directory
      .members()
      .members.filter((m) => !m.self)
      .map((m) => m.wallet);
  }

  /**
   * Back in the membership after a lapse: peers may have collected deletes meanwhile. Keep the KV API
   * closed until a peer has answered for the store — it either says the store is stale (then it is
   * rebuilt) or sends a snapshot. Not a rebuild outright: if every member lapsed together, nobody
   * collected anything, and rebuilding from each other would lose everything.
   */
  private recheckStore(): void {
    // Whatever this node collected, its own store was out meanwhile: it calls no other store stale.
    this.departed.clear();
    this.keyFreshness.invalidate();
    const store = this.state.currentStore;
    if (!store) return;
    this.log.info("back in the membership: checking the store with a peer before serving it");
    this.replicator.beginRecovery(store.epoch, true);
  }

  /** A peer says the store missed a tombstone collection: start an empty one and recover it. */
  private rebuildStore(): void {
    const opened = this.state.reopenStore();
    this.log.warn({ reopened: opened !== undefined }, "dropping a store that missed tombstone collections");
    if (!opened) return;
    this.replicator.beginRecovery(opened.epoch, true);
    void this.syncRound();
  }

  private openStore(keys: ServingKeys): KvStoreApi {
    return openNodeStore(this.config, { nodeId: this.wallet, dataKey: (appId) => keys.dataKey(appId) });
  }

  private storeRecovered(): boolean {
    const store = this.state.currentStore;
    return store !== undefined && this.replicator.isRecovered(store.epoch);
  }

  static async create(config: Config, options: NodeOptions = {}): Promise<KmsNode> {
    const tee =
      options.tee ??
      (config.IN_ENCLAVE
        ? new OdynTee({
            url: config.ODYN_URL,
            // Decrypt answers carry the plaintext of the largest body the node accepts.
            maxResponseBytes: odynResponseLimit(Math.max(config.SYNC_MAX_BODY_BYTES, config.MAX_KV_BODY_BYTES)),
          })
        : new SimulatedTee(config.SIM_NODE_SEED ? { seed: config.SIM_NODE_SEED } : {}));
    const wallet = (await tee.address()).toLowerCase();
    const teePublicKey = await tee.encryptionPublicKey();
    const log = options.log ?? createLogger(config.LOG_LEVEL, { wallet });
    return new KmsNode(config, tee, wallet, teePublicKey, log);
  }

  /** True when this node may answer /kms/*: registered on chain and holding the cluster secret. */
  get serving(): boolean {
    return this.readiness.serving;
  }

  /** Serving, and its KV store has caught up with its peers (what /status calls available). */
  get available(): boolean {
    return this.readiness.available;
  }

  get port(): number {
    return this.listeningPort;
  }

  httpDeps(): HttpDeps {
    const { config } = this;
    const { nonces, pop } = createPopAuth({
      windowSeconds: config.POP_TIMEOUT_SECONDS,
      maxNoncesPerPool: config.NONCE_STORE_MAX,
      ownWallet: this.wallet,
    });
    return {
      config,
      log: this.log,
      metrics: this.metrics,
      channel: new ServerChannel(this.tee, this.wallet),
      nonces,
      pop,
      authorizer: new RegistryAuthorizer({
        registry: this.registry,
        ttlMs: config.AUTH_CACHE_TTL_SECONDS * 1000,
        lookupsPerSecond: config.REGISTRY_LOOKUPS_PER_SECOND,
      }),
      serving: this.state,
      sync: new SyncHandler({
        store: () => this.state.servingStore(),
        masterSecret: () => (this.serving ? this.masterSecret.secret : undefined),
        storeRecovered: () => this.storeRecovered(),
        departed: this.departed,
        log: this.log,
        keyLeases: {
          answer: (resource, holder, leaseId, ttlMs) => ({
            granted: this.keyLeases.tryGrant(resourceId(resource), holder, leaseId, ttlMs),
            records: new KeyRecords(() => this.state.servingStore()!).wireRecords(resource),
          }),
          release: (resource, leaseId) => this.keyLeases.release(resourceId(resource), leaseId),
        },
      }),
      keys: () => this.namedKeys,
      secrets: () => this.secrets,
      replicated: (position) => this.writeQuorum.acknowledge(position),
      views: { status: () => this.statusView(), nodes: () => this.nodesView() },
    };
  }

  unavailableReason(): string {
    return this.readiness.reason();
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
    this.lifecycle.start();
    this.replication.start();
    this.keyMaintenance.start();
    this.keyFreshness.start();
  }

  /** One lifecycle step (shared with a step already running). Never throws. */
  tick(): Promise<void> {
    return this.lifecycle.runNow();
  }

  /** One replication round (shared with a round already running). */
  syncRound(): Promise<void> {
    return this.replication.runNow();
  }

  /**
   * The peer list, our own registration, then the master secret. Membership comes first: a node
   * back from a lapse closes its KV API for a check (recheckStore) before its registration lets it
   * serve again.
   */
  private async tickOnce(): Promise<void> {
    try {
      await this.directory
        .refresh()
        .catch((e: Error) => this.log.warn({ err: e.message.split("\n")[0] }, "peer refresh failed"));
      if (this.lapse.observe(this.directory.members().members.some((m) => m.self))) this.recheckStore();
      const self = await this.readiness.refresh();
      if (self.registered) await this.masterSecret.tick();
    } catch (e) {
      this.log.warn({ err: (e as Error).message.split("\n")[0] }, "tick failed");
    }
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
      registration: {
        registered: this.readiness.registration.registered,
        instanceUrl: this.readiness.registration.instanceUrl,
      },
      available: this.available,
      reason: this.unavailableReason(),
      secret: this.masterSecret.status(),
      members: this.directory.members().members.length,
      peers: this.directory.peers().length,
      store: this.state.currentStore?.stats(),
      writeQuorum: {
        setting: String(this.writeQuorum.setting),
        required: this.writeQuorum.required(),
        waiting: this.writeQuorum.waiting,
        insufficientTotal: this.writeQuorum.insufficientTotal,
      },
      namedKeys: {
        stallsSeen: this.keyFreshness.stallsSeen,
        leasesHeld: this.keyLeases.size,
        rotated: this.maintained.rotated,
        erased: this.maintained.erased,
        maintenanceFailed: this.maintained.failed,
      },
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
    this.lifecycle.stop();
    this.replication.stop();
    this.keyMaintenance.stop();
    this.keyFreshness.stop();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.peerClient.close();
    await this.tee.close();
  }
}

/** A lease resource as /sync carries it (sync-messages.ts). */
function leaseResourceJson(resource: Resource) {
  return { app_id: resource.appId.toString(10), kind: resource.kind, name: resource.name };
}
