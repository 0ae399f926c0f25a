// Pushes this node's KV changes to every peer and keeps replicas converged (DESIGN.md "Cluster"):
// - delta push from a per-peer ACKNOWLEDGED position: the position only moves when the peer
//   confirms the merge, so a failed push is retried from the same place, never skipped;
// - each peer's reply names its store epoch; a new epoch means the peer restarted empty, so its
//   position goes back to 0 and it receives everything again;
// - a node whose store is empty pulls a paged snapshot from a peer first, to catch up in bulk;
// - every few rounds, a digest exchange per peer repairs anything missed either way;
// - tombstones are collected only up to the lowest position every member has acknowledged;
// - one slow or dead peer never delays the others: each peer has its own in-flight flag and
//   calls run with bounded concurrency and per-call timeouts.
import pLimit from "p-limit";
import type { Logger } from "../log.js";
import type { KvStore } from "../store/kv-store.js";
import type { PeerInfo } from "./peer-directory.js";
import type { PeerClient } from "./peer-client.js";
import { dropUnknownTombstones } from "./repair-filter.js";

/**
 * Soft bound on the record JSON of one sync batch. The envelope hex-encodes it (×2), so 1 MiB of
 * records is ~2.1 MB on the wire; a single 1 MiB value (≈1.4 MB of base64) goes alone, ~2.8 MB.
 */
export const DEFAULT_SYNC_BATCH_BYTES = 1024 * 1024;

export interface PeerSyncState {
  /** Our change-log position this peer has acknowledged, for our store epoch `ourEpoch`. */
  acked: number;
  ourEpoch: string | undefined;
  /** The peer's store epoch as last reported. */
  peerEpoch: string | undefined;
  inFlight: boolean;
  lastSuccessAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: string | undefined;
}

export interface ReplicatorOptions {
  store(): KvStore | undefined;
  syncKey(): Uint8Array | undefined;
  peers(): readonly PeerInfo[];
  client: PeerClient;
  log: Logger;
  batchBytes?: number;
  concurrency?: number;
  /** Run a digest exchange every this many rounds. */
  antiEntropyEvery?: number;
}

export class Replicator {
  private readonly state = new Map<string, PeerSyncState>();
  private readonly limit;
  private rounds = 0;
  private bootstrappedEpoch: string | undefined;

  constructor(private readonly options: ReplicatorOptions) {
    this.limit = pLimit(options.concurrency ?? 4);
  }

  /** Per-peer replication state for /nodes and /status. */
  peerStates(): ReadonlyMap<string, PeerSyncState> {
    return this.state;
  }

  /** Lag of a peer in change-log positions (how much of our log it has not acknowledged). */
  lagOf(wallet: string): number | undefined {
    const store = this.options.store();
    const s = this.state.get(wallet);
    if (!store || !s || s.ourEpoch !== store.epoch) return undefined;
    return store.head - s.acked;
  }

  /**
   * One replication round: snapshot bootstrap if needed, then a push (and anti-entropy when due)
   * started for every peer that has none in flight, then tombstone collection. Resolves without
   * waiting for the pushes, so a peer that hangs until its timeout delays only its own stream,
   * never the next round for the others. Never throws.
   */
  async round(): Promise<void> {
    const store = this.options.store();
    const key = this.options.syncKey();
    if (!store || !key) return;
    const peers = this.options.peers();
    this.forgetDeparted(peers);
    if (this.bootstrappedEpoch !== store.epoch) {
      this.bootstrappedEpoch = store.epoch;
      if (store.head === 0 && peers.length > 0) await this.pullSnapshot(store, key, peers);
    }
    const antiEntropy = (this.rounds++ % (this.options.antiEntropyEvery ?? 5)) === 0;
    for (const peer of peers) {
      const s = this.stateOf(peer.wallet);
      if (s.inFlight) continue;
      s.inFlight = true;
      void this.limit(() => this.syncPeer(store, key, peer, s, antiEntropy)).finally(() => (s.inFlight = false));
    }
    this.collectTombstones(store, peers);
  }

  private stateOf(wallet: string): PeerSyncState {
    let s = this.state.get(wallet);
    if (!s) {
      s = { acked: 0, ourEpoch: undefined, peerEpoch: undefined, inFlight: false, lastSuccessAt: undefined, lastAttemptAt: undefined, lastError: undefined };
      this.state.set(wallet, s);
    }
    return s;
  }

  private forgetDeparted(peers: readonly PeerInfo[]): void {
    const current = new Set(peers.map((p) => p.wallet));
    for (const wallet of this.state.keys()) if (!current.has(wallet)) this.state.delete(wallet);
  }

  private async syncPeer(store: KvStore, key: Uint8Array, peer: PeerInfo, s: PeerSyncState, antiEntropy: boolean): Promise<void> {
    s.lastAttemptAt = Date.now();
    try {
      if (s.ourEpoch !== store.epoch) {
        s.ourEpoch = store.epoch;
        s.acked = 0;
      }
      await this.pushDeltas(store, key, peer, s);
      if (antiEntropy) await this.exchangeDigests(store, key, peer, s);
      s.lastSuccessAt = Date.now();
      s.lastError = undefined;
    } catch (e) {
      s.lastError = (e as Error).message.split("\n")[0];
      this.options.log.debug({ peer: peer.wallet, err: s.lastError }, "sync with peer failed");
    }
  }

  /** Pushes batches until the peer has acknowledged our whole log (as of this round). */
  private async pushDeltas(store: KvStore, key: Uint8Array, peer: PeerInfo, s: PeerSyncState): Promise<void> {
    const maxBytes = this.options.batchBytes ?? DEFAULT_SYNC_BATCH_BYTES;
    const target = store.head;
    // A first contact sends one (possibly empty) delta so we learn the peer's epoch.
    let first = s.peerEpoch === undefined;
    while (first || s.acked < target) {
      first = false;
      const batch = store.changesSince(s.acked, { maxBytes });
      const reply = await this.options.client.call(
        peer,
        { type: "delta", epoch: batch.epoch, from: s.acked, next: batch.next, records: batch.records },
        { syncKey: key },
      );
      if (typeof reply?.epoch !== "string") throw new Error("malformed delta_ack");
      if (s.peerEpoch !== undefined && reply.epoch !== s.peerEpoch) {
        // The peer restarted with an empty store: start over from the beginning of our log.
        this.options.log.info({ peer: peer.wallet }, "peer store restarted; resending everything");
        s.peerEpoch = reply.epoch;
        s.acked = 0;
        continue;
      }
      s.peerEpoch = reply.epoch;
      s.acked = batch.next;
      if (!batch.more && batch.records.length === 0) break;
    }
  }

  private async exchangeDigests(store: KvStore, key: Uint8Array, peer: PeerInfo, s: PeerSyncState): Promise<void> {
    const digests = store.appIds().map((appId) => store.digest(appId));
    const reply = await this.options.client.call(peer, { type: "digest", digests }, { syncKey: key });
    if (!Array.isArray(reply?.records) || !Array.isArray(reply?.differing)) throw new Error("malformed digest_reply");
    if (reply.records.length > 0) store.merge(dropUnknownTombstones(store, reply.records));
    const ours: unknown[] = [];
    for (const { app_id, buckets } of reply.differing as Array<{ app_id: string; buckets: number[] }>) {
      if (!/^[0-9]{1,78}$/.test(app_id) || !Array.isArray(buckets)) continue;
      ours.push(...store.recordsInBuckets(BigInt(app_id), buckets.filter((b) => Number.isInteger(b))));
    }
    if (ours.length > 0) await this.options.client.call(peer, { type: "repair", records: ours }, { syncKey: key });
    if (typeof reply.epoch === "string") s.peerEpoch ??= reply.epoch;
  }

  /** Pages a peer's whole store into ours (a node that starts empty); tries peers in turn. */
  private async pullSnapshot(store: KvStore, key: Uint8Array, peers: readonly PeerInfo[]): Promise<void> {
    for (const peer of peers) {
      try {
        let cursor = 0;
        let pages = 0;
        for (;;) {
          const page = await this.options.client.call(peer, { type: "snapshot_request", cursor }, { syncKey: key });
          if (!Array.isArray(page?.records) || typeof page?.next !== "number") throw new Error("malformed snapshot_page");
          store.merge(page.records);
          pages++;
          if (!page.more || page.next <= cursor) break;
          cursor = page.next;
        }
        this.options.log.info({ peer: peer.wallet, pages }, "recovered the store from a peer snapshot");
        return;
      } catch (e) {
        this.options.log.warn({ peer: peer.wallet, err: (e as Error).message.split("\n")[0] }, "snapshot from peer failed");
      }
    }
  }

  /** Drops tombstones every current member has acknowledged (all of them, in our current epoch). */
  private collectTombstones(store: KvStore, peers: readonly PeerInfo[]): void {
    let through = store.head;
    for (const peer of peers) {
      const s = this.state.get(peer.wallet);
      if (!s || s.ourEpoch !== store.epoch || s.peerEpoch === undefined) return;
      through = Math.min(through, s.acked);
    }
    if (through > 0) store.collectTombstones(through);
  }
}
