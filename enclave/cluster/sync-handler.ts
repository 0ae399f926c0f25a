// What a node does with an authenticated /sync message (the transport checks — peer PoP,
// membership, envelope, HMAC — happen in enclave/http/routes/sync.ts before this is called).
import type { RegisteredCaller } from "../auth/registry-rules.js";
import { VersionStatus } from "../chain/types.js";
import { hexToBytes } from "../crypto/bytes.js";
import { sealMasterSecret } from "../crypto/sealed-transfer.js";
import { KmsError, badRequest, forbidden } from "../errors.js";
import type { Logger } from "../log.js";
import type { KvReplicaApi, MergeStatus } from "../store/api.js";
import type { DepartedStores } from "./departed-stores.js";
import { DEFAULT_SYNC_BATCH_BYTES } from "./replicator.js";
import { dropUnknownTombstones } from "./repair-filter.js";
import type { SyncMessage } from "./sync-messages.js";
import type { Resource } from "../keys/key-records.js";

export interface SyncHandlerOptions {
  /** The store of the served secret, or undefined while not serving. */
  store(): KvReplicaApi | undefined;
  /** The served master secret, or undefined while not serving. */
  masterSecret(): Uint8Array | undefined;
  /** False while this node's own store is still recovering (its snapshot would be partial). */
  storeRecovered(): boolean;
  log: Logger;
  /** Store epochs of members that left; nothing from those stores is merged (departed-stores.ts). */
  departed?: Pick<DepartedStores, "saw" | "isDeparted">;
  /** master_secret_request answers per requesting wallet per minute. */
  secretRequestsPerMinute?: number;
  maxReplyBytes?: number;
  /** Lifecycle leases of named keys and secrets (key-leases.ts); absent = this node grants none. */
  keyLeases?: KeyLeaseResponder;
}

/** What a node answers to key_lease / key_release (wired in node.ts over its LeaseTable and records). */
export interface KeyLeaseResponder {
  answer(resource: Resource, holder: string, leaseId: string, ttlMs: number): { granted: boolean; records: unknown[] };
  release(resource: Resource, leaseId: string): void;
}

export class SyncHandler {
  private readonly secretRequests = new Map<string, { windowStart: number; count: number }>();

  constructor(private readonly options: SyncHandlerOptions) {}

  async handle(message: SyncMessage, peer: RegisteredCaller): Promise<Record<string, unknown>> {
    if (message.type === "master_secret_request") return this.masterSecret(message.ecdh_pubkey, peer);
    const store = this.options.store();
    if (!store) throw new KmsError("service_unavailable", "Service not ready");
    if (message.type === "key_lease" || message.type === "key_release") return this.keyLease(message, peer);
    const maxBytes = this.options.maxReplyBytes ?? DEFAULT_SYNC_BATCH_BYTES;
    if (message.epoch !== undefined) {
      const { departed } = this.options;
      if (departed?.isDeparted(peer.wallet, message.epoch)) {
        // Only a node whose own store is in order may tell a peer to throw its store away: two
        // members back from lapses must not make each other rebuild and lose everything.
        if (!this.options.storeRecovered())
          throw new KmsError("service_unavailable", "Store is recovering; ask another peer");
        return this.staleStoreReply(message, store, peer);
      }
      departed?.saw(peer.wallet, message.epoch);
    }
    switch (message.type) {
      case "delta":
      case "repair": {
        const records = message.type === "repair" ? dropUnknownTombstones(store, message.records) : message.records;
        const result = store.merge(records);
        if (result.counts.rejected > 0) {
          const reasons = [...new Set(result.outcomes.filter((o) => o.status === "rejected").map((o) => o.reason))];
          this.options.log.warn(
            { peer: peer.wallet, rejected: result.counts.rejected, reasons },
            "rejected replicated records",
          );
        }
        return { type: `${message.type}_ack`, epoch: store.epoch, counts: result.counts };
      }
      case "snapshot_request": {
        if (!this.options.storeRecovered())
          throw new KmsError("service_unavailable", "Store is recovering; ask another peer");
        // Our change feed from the cursor: paged from 0 it is the whole store (see changesSince).
        const page = store.changesSince(message.cursor, {
          maxBytes: Math.min(message.max_bytes ?? maxBytes, maxBytes),
        });
        return { type: "snapshot_page", ...page };
      }
      case "roots":
        return { type: "roots_reply", differing: differingApps(store.appRoots(), message.roots) };
      case "digest":
        return this.digestReply(store, message.digests, maxBytes);
    }
  }

  private keyLease(message: Extract<SyncMessage, { type: "key_lease" | "key_release" }>, peer: RegisteredCaller) {
    const { keyLeases } = this.options;
    if (!keyLeases) throw new KmsError("service_unavailable", "This node does not serve named keys");
    const resource: Resource = {
      appId: BigInt(message.resource.app_id),
      kind: message.resource.kind,
      name: message.resource.name,
    };
    if (message.type === "key_release") {
      keyLeases.release(resource, message.lease_id);
      return { type: "key_release_reply" };
    }
    return { type: "key_lease_reply", ...keyLeases.answer(resource, peer.wallet, message.lease_id, message.ttl_ms) };
  }

  /**
   * The answer to a store that was in use when its member left the membership: nothing merged,
   * compared or sent, and `stale_store` so that the member rebuilds it (departed-stores.ts).
   */
  private staleStoreReply(
    message: Exclude<SyncMessage, { type: "master_secret_request" | "key_lease" | "key_release" }>,
    store: KvReplicaApi,
    peer: RegisteredCaller,
  ) {
    this.options.log.warn({ peer: peer.wallet }, "refused a store that missed a tombstone collection");
    const counts: Record<MergeStatus, number> = { inserted: 0, replaced: 0, concurrent: 0, ignored: 0, rejected: 0 };
    const stale_store = true;
    const epoch = store.epoch;
    switch (message.type) {
      case "delta":
      case "repair":
        return { type: `${message.type}_ack`, epoch, counts, stale_store };
      case "snapshot_request":
        return { type: "snapshot_page", epoch, records: [], next: message.cursor, head: 0, more: false, stale_store };
      case "roots":
        return { type: "roots_reply", differing: [], stale_store };
      case "digest":
        return { type: "digest_reply", epoch, records: [], differing: [], truncated: false, stale_store };
    }
  }

  /** Our records wherever the peer's digest differs from ours (bounded by bytes). */
  private digestReply(
    store: KvReplicaApi,
    digests: Extract<SyncMessage, { type: "digest" }>["digests"],
    maxBytes: number,
  ) {
    const records: unknown[] = [];
    const differing: Array<{ app_id: string; buckets: number[] }> = [];
    let bytes = 0;
    let truncated = false;
    const add = (batch: unknown[]) => {
      for (const r of batch) {
        const size = JSON.stringify(r).length;
        if (records.length > 0 && bytes + size > maxBytes) {
          truncated = true;
          return;
        }
        records.push(r);
        bytes += size;
      }
    };
    for (const digest of digests) {
      let buckets: number[];
      try {
        buckets = store.diffDigest(digest);
      } catch {
        throw badRequest("malformed digest");
      }
      if (buckets.length === 0) continue;
      differing.push({ app_id: digest.app_id, buckets });
      add(store.recordsInBuckets(BigInt(digest.app_id), buckets));
    }
    return { type: "digest_reply", epoch: store.epoch, records, differing, truncated };
  }

  private masterSecret(ecdhPubkeyHex: string, peer: RegisteredCaller): Record<string, unknown> {
    if (peer.versionStatus !== VersionStatus.ENROLLED) {
      throw forbidden("Master secret is only shared with ENROLLED versions", "secret_request_version_not_enrolled");
    }
    this.checkSecretRate(peer.wallet);
    const secret = this.options.masterSecret();
    if (!secret) throw new KmsError("service_unavailable", "This node does not hold the cluster secret");
    let sealed;
    try {
      sealed = sealMasterSecret({ requesterEcdhPublicKey: hexToBytes(ecdhPubkeyHex), masterSecret: secret });
    } catch {
      throw badRequest("Invalid ecdh_pubkey");
    }
    this.options.log.info(
      { peer: peer.wallet, instance: peer.instanceId.toString() },
      "served the master secret to a peer",
    );
    return { status: "ok", sealed };
  }

  private checkSecretRate(wallet: string): void {
    const limit = this.options.secretRequestsPerMinute ?? 10;
    const now = Date.now();
    const entry = this.secretRequests.get(wallet);
    if (!entry || now - entry.windowStart >= 60_000) {
      this.secretRequests.set(wallet, { windowStart: now, count: 1 });
      return;
    }
    entry.count++;
    if (entry.count > limit) throw new KmsError("rate_limited", "Too many master secret requests");
  }
}

/** App ids whose root hashes differ between two nodes, or that only one of them holds. */
export function differingApps(ours: Record<string, string>, theirs: Record<string, string>): string[] {
  const apps = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  return [...apps].filter((app) => ours[app] !== theirs[app]).sort();
}
