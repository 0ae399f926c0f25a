// The /status and /nodes views against PROTOCOL.md §9: existing Nova app runtimes read the
// reference keys at exactly these places, so the key sets are spelled out here rather than taken
// from the schema (a key moved in the schema must still fail this test).
import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { MasterSecretStatus } from "../../../enclave/cluster/master-secret.js";
import type { MemberView } from "../../../enclave/cluster/peer-directory.js";
import { initialPeerSyncState, type PeerSyncState } from "../../../enclave/cluster/replicator.js";
import { buildNodesView, buildStatusView, type StatusParts } from "../../../enclave/http/views.js";
import { nodeStatusSchema, nodesViewSchema, statusViewSchema } from "../../../enclave/protocol/views.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const tee = new SimulatedTee({ seed: "views-test" });
const WALLET = tee.identity.wallet.toLowerCase();
const REGISTRY = "0xAbCdEf0000000000000000000000000000000001";

const noSecret: MasterSecretStatus = {
  ready: false,
  reason: "starting",
  onChainHash: undefined,
  origin: undefined,
  syncedFrom: undefined,
};

function parts(overrides: Partial<StatusParts> = {}): StatusParts {
  return {
    version: "9.9.9",
    inEnclave: false,
    // Mixed case in, lower case out.
    wallet: `0x${WALLET.slice(2).toUpperCase()}`,
    teePublicKey: tee.identity.teePubkey,
    kmsAppId: 42n,
    kmsRegistryAddress: REGISTRY,
    configuredUrl: undefined,
    registration: { registered: false, instanceUrl: undefined },
    available: false,
    reason: "this node's wallet is not registered on chain",
    secret: noSecret,
    members: 0,
    peers: 0,
    store: undefined,
    writeQuorum: { setting: "2", required: 2, waiting: 0, insufficientTotal: 0 },
    namedKeys: { stallsSeen: 1, leasesHeld: 2, rotated: 3, erased: 4, maintenanceFailed: 5 },
    ...overrides,
  };
}

const keys = (o: object) => Object.keys(o).sort();

describe("GET /status view", () => {
  it("has the reference keys at exactly their places, and ours only in the kms block", () => {
    const view = buildStatusView(parts());
    expect(keys(view)).toEqual(["cluster", "data_store", "kms", "node"]);
    expect(keys(view.node)).toEqual([
      "is_operator",
      "master_secret",
      "master_secret_initialized",
      "node_url",
      "service_available",
      "tee_pubkey",
      "tee_wallet",
    ]);
    expect(keys(view.node.master_secret)).toEqual(["state", "synced_from"]);
    expect(keys(view.cluster)).toEqual(["kms_app_id", "registry_address", "total_instances"]);
    expect(keys(view.data_store)).toEqual(["namespaces", "total_bytes", "total_keys"]);
    expect(keys(view.kms)).toEqual([
      "instance_url",
      "master_secret",
      "mode",
      "named_keys",
      "peers",
      "reason",
      "registered",
      "store",
      "version",
      "write_quorum",
    ]);
    expect(view.kms.write_quorum).toEqual({
      setting: "2",
      required: 2,
      replicated: true,
      waiting: 0,
      insufficient_total: 0,
    });
    expect(view.kms.named_keys).toEqual({
      stalls_seen: 1,
      leases_held: 2,
      rotated_total: 3,
      erased_total: 4,
      maintenance_failed_total: 5,
    });
    const alone = buildStatusView(
      parts({ writeQuorum: { setting: "1", required: 1, waiting: 0, insufficientTotal: 0 } }),
    );
    // A one-node (quorum 1) cluster says plainly that its writes are not replicated.
    expect(alone.kms.write_quorum.replicated).toBe(false);
    // The schema neither drops nor adds anything the builder makes.
    expect(statusViewSchema.parse(view)).toEqual(view);
  });

  it("reports identity in the reference encodings", () => {
    const { node } = buildStatusView(parts());
    expect(node.tee_wallet).toBe(WALLET);
    expect(node.tee_wallet).toMatch(/^0x[0-9a-f]{40}$/);
    expect(node.tee_pubkey).toMatch(/^[0-9a-f]{240}$/);
    expect(node.tee_pubkey).toBe(Buffer.from(tee.identity.teePubkeySpki).toString("hex"));
    const key = createPublicKey({ key: Buffer.from(node.tee_pubkey, "hex"), format: "der", type: "spki" });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
  });

  it("an unregistered node without a secret or store", () => {
    const view = buildStatusView(parts());
    expect(view.node).toMatchObject({
      node_url: null,
      is_operator: false,
      service_available: false,
      master_secret: { state: "uninitialized", synced_from: null },
      master_secret_initialized: false,
    });
    expect(view.cluster).toEqual({ kms_app_id: 42, registry_address: REGISTRY.toLowerCase(), total_instances: 0 });
    expect(view.data_store).toEqual({ namespaces: 0, total_keys: 0, total_bytes: 0 });
    expect(view.kms).toMatchObject({ mode: "simulation", registered: false, store: null });
    expect(view.kms.master_secret.origin).toBeNull();
    expect(typeof view.node.service_available).toBe("boolean");
  });

  it("a serving node: registration, store totals and membership", () => {
    const view = buildStatusView(
      parts({
        configuredUrl: "https://kms-1.example",
        registration: { registered: true, instanceUrl: "https://kms-1.example" },
        available: true,
        reason: "serving",
        secret: { ready: true, reason: "serving", onChainHash: "0x01", origin: "generated", syncedFrom: undefined },
        members: 3,
        peers: 2,
        store: {
          namespaces: 3,
          liveKeys: 7,
          liveBytes: 521,
          tombstones: 1,
          tombstoneBytes: 10,
          evictions: 0,
          head: 6,
          appData: { namespaces: 2, liveKeys: 5, liveBytes: 321 },
        },
      }),
    );
    expect(view.node).toMatchObject({ node_url: "https://kms-1.example", is_operator: true, service_available: true });
    expect(view.node.master_secret).toEqual({ state: "generated", synced_from: null });
    expect(view.node.master_secret_initialized).toBe(true);
    expect(view.cluster.total_instances).toBe(3);
    // data_store counts the apps' KV data only; kms.store is the whole store, named keys included.
    expect(view.data_store).toEqual({ namespaces: 2, total_keys: 5, total_bytes: 321 });
    expect(view.kms).toMatchObject({ peers: 2, reason: "serving" });
    expect(view.kms.master_secret).toEqual({ ready: true, origin: "generated", on_chain_hash: "0x01" });
    expect(view.kms.store).toEqual({
      namespaces: 3,
      live_keys: 7,
      live_bytes: 521,
      tombstones: 1,
      tombstone_bytes: 10,
      evictions: 0,
      head: 6,
    });
  });

  it("maps the secret's origin onto the reference states", () => {
    const state = (secret: Partial<MasterSecretStatus>) =>
      buildStatusView(parts({ secret: { ...noSecret, ...secret } })).node.master_secret;
    expect(state({})).toEqual({ state: "uninitialized", synced_from: null });
    expect(state({ origin: "generated" })).toEqual({ state: "generated", synced_from: null });
    // A preset MASTER_SECRET_HEX is "generated" as in the reference; kms.master_secret.origin says "preset".
    expect(state({ origin: "preset" })).toEqual({ state: "generated", synced_from: null });
    expect(state({ origin: "peer", syncedFrom: "https://kms-2.example" })).toEqual({
      state: "synced",
      synced_from: "https://kms-2.example",
    });
    // Holding a secret that no longer matches the chain is still "initialized".
    const stale = buildStatusView(parts({ secret: { ...noSecret, ready: false, origin: "peer", syncedFrom: "x" } }));
    expect(stale.node.master_secret_initialized).toBe(true);
  });

  it("writes app ids above 2^53 as decimal strings", () => {
    expect(buildStatusView(parts({ kmsAppId: 2n ** 60n })).cluster.kms_app_id).toBe((2n ** 60n).toString());
  });

  it("a client reads a reference node's /status without our kms block", () => {
    const { kms: _ours, ...reference } = buildStatusView(parts());
    expect(nodeStatusSchema.parse(reference)).toEqual(reference);
    expect(() => nodeStatusSchema.parse({ tee_wallet: WALLET, service_available: true })).toThrow();
  });
});

describe("GET /nodes view", () => {
  const self = `0x${"11".repeat(20)}`;
  const peer = `0x${"22".repeat(20)}`;
  const excluded = `0x${"33".repeat(20)}`;
  const member = (wallet: string, i: number, extra: Partial<MemberView> = {}): MemberView => ({
    wallet,
    url: `http://127.0.0.1:${4000 + i}`,
    instanceId: BigInt(i),
    versionId: 1n,
    versionStatus: 0,
    self: false,
    operator: `0x${"0a".repeat(20)}`,
    registeredAt: 1_700_000_000n + BigInt(i),
    zkVerified: true,
    instanceStatus: 0,
    ...extra,
  });
  const sync = (s: Partial<PeerSyncState>): PeerSyncState => ({ ...initialPeerSyncState(), ...s });

  function view(peerSync: Partial<PeerSyncState> | undefined) {
    return buildNodesView({
      kmsAppId: 42n,
      members: [member(self, 1, { self: true }), member(peer, 2), member(excluded, 3, { excluded: "http:// refused" })],
      refreshedAt: 1234,
      syncStates: new Map(peerSync ? [[peer, sync(peerSync)]] : []),
      lagOf: (w) => (w === peer ? 7 : undefined),
    });
  }

  it("serves the reference operators[] and count beside our nodes[]", () => {
    const v = view({ lastAttemptAt: 2000, lastSuccessAt: 2001 });
    expect(keys(v)).toEqual(["count", "kms_app_id", "nodes", "operators", "refreshed_at_ms"]);
    expect(v.count).toBe(3);
    expect(v.operators).toHaveLength(3);
    const [first] = v.operators;
    expect(keys(first!)).toEqual(["connection", "instance", "operator"]);
    expect(keys(first!.instance)).toEqual([
      "app_id",
      "instance_id",
      "instance_status",
      "instance_url",
      "operator",
      "registered_at",
      "tee_wallet",
      "version_id",
      "zk_verified",
    ]);
    expect(keys(first!.instance.instance_status)).toEqual(["name", "value"]);
    expect(keys(first!.connection)).toEqual([
      "cached_status",
      "in_peer_cache",
      "status_checked_at_ms",
      "status_endpoint_http_code",
      "status_endpoint_reachable",
      "status_probe_ms",
    ]);
    expect(first).toEqual({
      operator: self,
      instance: {
        instance_id: 1,
        app_id: 42,
        version_id: 1,
        operator: `0x${"0a".repeat(20)}`,
        instance_url: "http://127.0.0.1:4001",
        tee_wallet: self,
        zk_verified: true,
        instance_status: { value: 0, name: "ACTIVE" },
        registered_at: 1_700_000_001,
      },
      connection: {
        in_peer_cache: true,
        cached_status: "ACTIVE",
        status_endpoint_reachable: null,
        status_endpoint_http_code: null,
        status_probe_ms: null,
        status_checked_at_ms: null,
      },
    });
    expect(v.operators[1]!.connection).toMatchObject({ status_endpoint_reachable: true, status_checked_at_ms: 2000 });
    expect(v.operators[2]!.connection.in_peer_cache).toBe(false);
    expect(v.nodes.map((n) => n.wallet)).toEqual([self, peer, excluded]);
    expect(v.nodes[1]).toMatchObject({ last_sync_ok_ms: 2001, last_sync_attempt_ms: 2000, sync_lag: 7 });
    expect(v.nodes[1]!.last_error).toBeNull();
    expect(v.nodes[2]).toMatchObject({ excluded: "http:// refused" });
    expect(nodesViewSchema.parse(v)).toEqual(v);
  });

  it("reachable follows the last finished sync with the member", () => {
    const reachable = (s: Partial<PeerSyncState> | undefined) =>
      view(s).operators[1]!.connection.status_endpoint_reachable;
    expect(reachable(undefined)).toBeNull();
    expect(reachable({ lastAttemptAt: 5 })).toBeNull();
    expect(reachable({ lastAttemptAt: 5, lastError: "timeout" })).toBe(false);
    expect(reachable({ lastAttemptAt: 9, lastSuccessAt: 10 })).toBe(true);
  });

  it("names an instance that is not ACTIVE as the reference does", () => {
    const v = buildNodesView({
      kmsAppId: 42n,
      members: [member(peer, 2, { instanceStatus: 1 })],
      refreshedAt: 0,
      syncStates: new Map(),
      lagOf: () => undefined,
    });
    expect(v.operators[0]!.instance.instance_status).toEqual({ value: 1, name: "NON_ACTIVE" });
    expect(v.operators[0]!.connection.cached_status).toBe("NON_ACTIVE");
    expect(v.refreshed_at_ms).toBeNull();
  });
});
