// Builds the public `/status` and `/nodes` views (enclave/protocol/views.ts) from the pieces of node
// state they show. Pure functions: node.ts gathers the pieces, so the mapping onto the reference
// shape can be tested without a chain.
import { InstanceStatus } from "../chain/types.js";
import type { MasterSecretStatus } from "../cluster/master-secret.js";
import type { MemberView } from "../cluster/peer-directory.js";
import type { PeerSyncState } from "../cluster/replicator.js";
import { bytesToHex } from "../crypto/bytes.js";
import { p384SpkiFromSec1 } from "../crypto/p384.js";
import type { MasterSecretState, MemberEntry, NodesView, OperatorEntry, StatusView } from "../protocol/views.js";
import type { StoreStats } from "../store/api.js";
import { appIdJson } from "./validate.js";

/** Every uint256 of chain origin goes out by the app-id rule: a number while exact, else a decimal string. */
const uintJson = appIdJson;

export interface StatusParts {
  version: string;
  inEnclave: boolean;
  /** Lower-case wallet of this node. */
  wallet: string;
  /** The TEE's P-384 encryption key as a SEC1 point (shown as SPKI DER). */
  teePublicKey: Uint8Array;
  kmsAppId: bigint;
  kmsRegistryAddress: string;
  /** NODE_INSTANCE_URL, if configured. */
  configuredUrl: string | undefined;
  registration: { registered: boolean; instanceUrl: string | undefined };
  available: boolean;
  reason: string;
  secret: MasterSecretStatus;
  /** Registry members, this node included. */
  members: number;
  /** Members this node replicates with. */
  peers: number;
  /** Undefined until the node first holds a secret (the store is opened for one). */
  store: StoreStats | undefined;
  writeQuorum: { setting: string; required: number; waiting: number; insufficientTotal: number };
  namedKeys: { stallsSeen: number; leasesHeld: number; rotated: number; erased: number; maintenanceFailed: number };
}

/** A preset secret counts as generated, as in the reference; `kms.master_secret.origin` keeps the difference. */
export function masterSecretState(origin: MasterSecretStatus["origin"]): MasterSecretState {
  if (origin === undefined) return "uninitialized";
  return origin === "peer" ? "synced" : "generated";
}

export function buildStatusView(p: StatusParts): StatusView {
  const { secret, store } = p;
  return {
    node: {
      tee_wallet: p.wallet.toLowerCase(),
      tee_pubkey: bytesToHex(p384SpkiFromSec1(p.teePublicKey)),
      node_url: p.configuredUrl ?? null,
      is_operator: p.registration.registered,
      service_available: p.available,
      master_secret: {
        state: masterSecretState(secret.origin),
        synced_from: secret.origin === "peer" ? (secret.syncedFrom ?? null) : null,
      },
      master_secret_initialized: secret.origin !== undefined,
    },
    cluster: {
      kms_app_id: uintJson(p.kmsAppId),
      registry_address: p.kmsRegistryAddress.toLowerCase(),
      total_instances: p.members,
    },
    // The apps' KV data, as the reference counts it; named keys and secrets are in kms.store only.
    data_store: {
      namespaces: store?.appData.namespaces ?? 0,
      total_keys: store?.appData.liveKeys ?? 0,
      total_bytes: store?.appData.liveBytes ?? 0,
    },
    kms: {
      version: p.version,
      mode: p.inEnclave ? "enclave" : "simulation",
      reason: p.reason,
      registered: p.registration.registered,
      instance_url: { configured: p.configuredUrl ?? null, registered: p.registration.instanceUrl ?? null },
      peers: p.peers,
      master_secret: { ready: secret.ready, origin: secret.origin ?? null, on_chain_hash: secret.onChainHash ?? null },
      write_quorum: {
        setting: p.writeQuorum.setting,
        required: p.writeQuorum.required,
        replicated: p.writeQuorum.required > 1,
        waiting: p.writeQuorum.waiting,
        insufficient_total: p.writeQuorum.insufficientTotal,
      },
      named_keys: {
        stalls_seen: p.namedKeys.stallsSeen,
        leases_held: p.namedKeys.leasesHeld,
        rotated_total: p.namedKeys.rotated,
        erased_total: p.namedKeys.erased,
        maintenance_failed_total: p.namedKeys.maintenanceFailed,
      },
      store: store
        ? {
            namespaces: store.namespaces,
            live_keys: store.liveKeys,
            live_bytes: store.liveBytes,
            tombstones: store.tombstones,
            tombstone_bytes: store.tombstoneBytes,
            evictions: store.evictions,
            head: store.head,
          }
        : null,
    },
  };
}

export interface NodesParts {
  kmsAppId: bigint;
  members: readonly MemberView[];
  /** When the directory last read the registry (0 = never). */
  refreshedAt: number;
  syncStates: ReadonlyMap<string, PeerSyncState>;
  lagOf(wallet: string): number | undefined;
}

export function buildNodesView(p: NodesParts): NodesView {
  const operators = p.members.map((m) => operatorEntry(m, p.kmsAppId, p.syncStates.get(m.wallet)));
  return {
    operators,
    count: operators.length,
    kms_app_id: p.kmsAppId.toString(),
    refreshed_at_ms: p.refreshedAt || null,
    nodes: p.members.map((m) => memberEntry(m, p.syncStates.get(m.wallet), p.lagOf(m.wallet))),
  };
}

function statusName(status: number): "ACTIVE" | "NON_ACTIVE" {
  return status === InstanceStatus.ACTIVE ? "ACTIVE" : "NON_ACTIVE";
}

/**
 * The reference's entry. It probes each peer's /status; this node does not, so `connection` is
 * filled from replication instead: a successful sync round trip proves more than a /status answer.
 */
function operatorEntry(m: MemberView, kmsAppId: bigint, sync: PeerSyncState | undefined): OperatorEntry {
  return {
    operator: m.wallet,
    instance: {
      instance_id: uintJson(m.instanceId),
      // The directory keeps only instances of KMS_APP_ID.
      app_id: uintJson(kmsAppId),
      version_id: uintJson(m.versionId),
      operator: m.operator,
      instance_url: m.url,
      tee_wallet: m.wallet,
      zk_verified: m.zkVerified,
      instance_status: { value: m.instanceStatus, name: statusName(m.instanceStatus) },
      registered_at: uintJson(m.registeredAt),
    },
    connection: {
      // Listed and dialable (this node itself included, as in the reference's peer cache).
      in_peer_cache: m.excluded === undefined,
      // The status the registry reported at the last membership refresh.
      cached_status: statusName(m.instanceStatus),
      // Whether the last finished sync with the member succeeded; null for this node and before any.
      status_endpoint_reachable: lastSyncSucceeded(sync),
      // Not kept: sync failures are recorded as messages, not HTTP codes.
      status_endpoint_http_code: null,
      // Not measured.
      status_probe_ms: null,
      // When the last sync attempt with the member started.
      status_checked_at_ms: sync?.lastAttemptAt ?? null,
    },
  };
}

function lastSyncSucceeded(sync: PeerSyncState | undefined): boolean | null {
  if (sync?.lastError !== undefined) return false;
  return sync?.lastSuccessAt !== undefined ? true : null;
}

function memberEntry(m: MemberView, sync: PeerSyncState | undefined, lag: number | undefined): MemberEntry {
  return {
    wallet: m.wallet,
    instance_id: m.instanceId.toString(),
    url: m.url,
    version_id: m.versionId.toString(),
    self: m.self,
    ...(m.excluded ? { excluded: m.excluded } : {}),
    ...(m.self
      ? {}
      : {
          last_sync_ok_ms: sync?.lastSuccessAt ?? null,
          last_sync_attempt_ms: sync?.lastAttemptAt ?? null,
          last_error: sync?.lastError ?? null,
          sync_lag: lag ?? null,
        }),
  };
}
