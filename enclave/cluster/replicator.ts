// Pushes this node's KV changes to every peer and keeps replicas converged (DESIGN.md "Cluster"):
// - delta push from a per-peer ACKNOWLEDGED position: the position only moves when the peer
//   confirms the merge, so a failed push is retried from the same place, never skipped;
// - each peer's reply names its store epoch; a new epoch means the peer restarted empty, so its
//   position goes back to 0 and it receives everything again;
// - a node that opens a store for a secret it adopted pulls a paged snapshot from a peer before
//   its KV API opens (see beginRecovery), so it never answers "not found" for a key the cluster has;
// - every few rounds, a digest exchange per peer repairs anything missed either way;
// - tombstones are collected only up to the lowest position every member has acknowledged — every
//   registered member, including those this node cannot contact;
// - nothing is merged from a store its member had when it left the membership (it may hold keys
//   deleted and collected meanwhile); a peer that says our store is such a one makes us rebuild it
//   (departed-stores.ts);
// - one slow or dead peer never delays the others: each peer has its own in-flight flag and
//   calls run with bounded concurrency and per-call timeouts.
import pLimit from "p-limit";
import type { Logger } from "../log.js";
import type { KvReplicaApi } from "../store/api.js";
import { isReservedNamespace } from "../store/limits.js";
import type { PeerInfo } from "./peer-directory.js";
import type { DepartedStores } from "./departed-stores.js";
import { PeerCallError, type PeerClient } from "./peer-client.js";
import { dropUnknownTombstones } from "./repair-filter.js";
import { MAX_DIGEST_APPS } from "./sync-messages.js";

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
  /** A push was asked for while one was in flight: run another right after (group commit). */
  pushAgain: boolean;
  lastSuccessAt: number | undefined;
  lastAttemptAt: number | undefined;
  lastError: string | undefined;
}

/** A peer we have not exchanged anything with yet. */
export function initialPeerSyncState(): PeerSyncState {
  return {
    acked: 0,
    ourEpoch: undefined,
    peerEpoch: undefined,
    inFlight: false,
    pushAgain: false,
    lastSuccessAt: undefined,
    lastAttemptAt: undefined,
    lastError: undefined,
  };
}

export interface ReplicatorOptions {
  store(): KvReplicaApi | undefined;
  syncKey(): Uint8Array | undefined;
  peers(): readonly PeerInfo[];
  /**
   * Wallets of every registered member other than this node, contacted or not (default: the peers).
   * Tombstones are kept until all of them have acknowledged: one that cannot be reached may still
   * hold the deleted key, and would bring it back.
   */
  members?(): readonly string[];
  /** Store epochs of departed members, shared with the SyncHandler. */
  departed?: DepartedStores;
  /** A peer says this node's store missed a tombstone collection: open a fresh one and recover it. */
  onStaleStore?(): void;
  /** A store younger than this is not rebuilt on a peer's word (bounds what a lying peer can cause). */
  staleStoreMinAgeMs?: number;
  client: PeerClient;
  log: Logger;
  batchBytes?: number;
  concurrency?: number;
  /** Run a digest exchange every this many rounds. */
  antiEntropyEvery?: number;
  /** How long a new store waits for a peer snapshot before serving anyway. */
  recoveryDeadlineMs?: number;
  /** Called whenever a peer acknowledges more of our log (the write quorum listens). */
  onAck?: () => void;
}

export const DEFAULT_RECOVERY_DEADLINE_MS = 30_000;
export const DEFAULT_STALE_STORE_MIN_AGE_MS = 60_000;

/** Thrown to stop syncing with a peer whose store we do not merge from. */
const DEPARTED_PEER_STORE = "peer's store missed a tombstone collection; waiting for it to rebuild";

export class Replicator {
  private readonly state = new Map<string, PeerSyncState>();
  private readonly limit;
  private rounds = 0;
  private recovery: { epoch: string; done: boolean; deadline: number } | undefined;
  /** When the current store was opened (its first beginRecovery), for the stale-store age check. */
  private opened: { epoch: string; at: number } | undefined;
  /** The store epoch a rebuild was last asked for, so one store is rebuilt once. */
  private rebuildAskedFor: string | undefined;

  constructor(private readonly options: ReplicatorOptions) {
    this.limit = pLimit(options.concurrency ?? 4);
  }

  /** Per-peer replication state for /nodes and /status. */
  peerStates(): ReadonlyMap<string, PeerSyncState> {
    return this.state;
  }

  /**
   * Called when the node opens a new store. A store opened for a secret this node generated has
   * nothing to recover (nothing anywhere is sealed under it yet); one opened for an adopted or
   * preset secret must first pull a peer's snapshot, so that the node never answers "not found"
   * for a key the cluster holds. Until then `isRecovered` is false and the KV API answers 503.
   * Called again for the same store (a node back in the membership), it re-checks the store with
   * a peer before serving it: the peer either says it is stale (see peerSaysStale) or sends a
   * snapshot that is merged into it.
   */
  beginRecovery(epoch: string, fromPeers: boolean): void {
    const now = Date.now();
    if (this.opened?.epoch !== epoch) this.opened = { epoch, at: now };
    this.recovery = {
      epoch,
      done: !fromPeers,
      deadline: now + (this.options.recoveryDeadlineMs ?? DEFAULT_RECOVERY_DEADLINE_MS),
    };
  }

  isRecovered(epoch: string): boolean {
    return this.recovery?.epoch !== epoch || this.recovery.done;
  }

  /** Peers that acknowledged our log up to `position` in our current store epoch (write quorum). */
  peersHolding(position: number): number {
    const store = this.options.store();
    if (!store) return 0;
    let holding = 0;
    for (const peer of this.options.peers()) {
      const s = this.state.get(peer.wallet);
      if (s && s.ourEpoch === store.epoch && s.peerEpoch !== undefined && s.acked >= position) holding++;
    }
    return holding;
  }

  /** Peers whose last exchange succeeded (never tried counts as reachable until it fails). */
  reachablePeerCount(): number {
    return this.options.peers().filter((p) => this.state.get(p.wallet)?.lastError === undefined).length;
  }

  /**
   * Pushes our log to every peer now rather than at the next round. A peer with a push in flight
   * gets another right after it, carrying every write that arrived meanwhile: concurrent writes
   * share round trips instead of each paying for its own.
   */
  pushNow(): void {
    const store = this.options.store();
    const key = this.options.syncKey();
    if (!store || !key) return;
    for (const peer of this.options.peers()) this.startPush(store, key, peer, false);
  }

  private startPush(store: KvReplicaApi, key: Uint8Array, peer: PeerInfo, antiEntropy: boolean): void {
    const s = this.stateOf(peer.wallet);
    if (s.inFlight) {
      s.pushAgain = true;
      return;
    }
    s.inFlight = true;
    s.pushAgain = false;
    void this.limit(() => this.syncPeer(store, key, peer, s, antiEntropy)).finally(() => {
      s.inFlight = false;
      if (s.pushAgain && this.options.store() === store) this.startPush(store, key, peer, false);
    });
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
    const members = this.options.members?.() ?? peers.map((p) => p.wallet);
    this.forgetDeparted(members);
    if (!this.isRecovered(store.epoch)) {
      await this.recover(store, key, peers);
      if (this.options.store() !== store) return; // rebuilt meanwhile; the next round syncs the new one
    }
    const antiEntropy = this.rounds++ % (this.options.antiEntropyEvery ?? 5) === 0;
    for (const peer of peers) {
      if (!this.stateOf(peer.wallet).inFlight) this.startPush(store, key, peer, antiEntropy);
    }
    this.collectTombstones(store, members);
  }

  private stateOf(wallet: string): PeerSyncState {
    let s = this.state.get(wallet);
    if (!s) {
      s = initialPeerSyncState();
      this.state.set(wallet, s);
    }
    return s;
  }

  private forgetDeparted(members: readonly string[]): void {
    const current = new Set(members);
    for (const wallet of this.state.keys()) if (!current.has(wallet)) this.state.delete(wallet);
    this.options.departed?.membership(current);
  }

  /**
   * Records the store epoch a peer answered with; throws when it is the store the peer had when it
   * left the membership (merging from it could bring deleted keys back).
   */
  private checkPeerStore(peer: PeerInfo, epoch: string): void {
    const { departed } = this.options;
    if (departed?.isDeparted(peer.wallet, epoch)) throw new Error(DEPARTED_PEER_STORE);
    departed?.saw(peer.wallet, epoch);
  }

  /**
   * A peer merged nothing from us because our store missed a tombstone collection (we were out of
   * the membership while it collected). Rebuild it, unless it is younger than the minimum age: a
   * store opened since cannot have missed anything, and a lying peer must not keep us rebuilding.
   */
  private peerSaysStale(store: KvReplicaApi, peer: PeerInfo): void {
    if (this.rebuildAskedFor === store.epoch) return;
    const openedAt = this.opened?.epoch === store.epoch ? this.opened.at : 0;
    if (Date.now() - openedAt < (this.options.staleStoreMinAgeMs ?? DEFAULT_STALE_STORE_MIN_AGE_MS)) {
      this.options.log.warn({ peer: peer.wallet }, "a peer calls this young store stale; not rebuilding it");
      return;
    }
    this.rebuildAskedFor = store.epoch;
    this.options.log.warn({ peer: peer.wallet }, "this store missed a tombstone collection; rebuilding it");
    // What we collected, we collected in the store being dropped: those verdicts are void now.
    this.options.departed?.clear();
    this.options.onStaleStore?.();
  }

  private async syncPeer(
    store: KvReplicaApi,
    key: Uint8Array,
    peer: PeerInfo,
    s: PeerSyncState,
    antiEntropy: boolean,
  ): Promise<void> {
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
  private async pushDeltas(store: KvReplicaApi, key: Uint8Array, peer: PeerInfo, s: PeerSyncState): Promise<void> {
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
      if (reply.stale_store) return this.peerSaysStale(store, peer);
      this.checkPeerStore(peer, reply.epoch);
      if (s.peerEpoch !== undefined && reply.epoch !== s.peerEpoch) {
        // The peer restarted with an empty store: start over from the beginning of our log.
        this.options.log.info({ peer: peer.wallet }, "peer store restarted; resending everything");
        s.peerEpoch = reply.epoch;
        s.acked = 0;
        continue;
      }
      s.peerEpoch = reply.epoch;
      s.acked = batch.next;
      this.options.onAck?.();
      if (!batch.more && batch.records.length === 0) break;
    }
  }

  /**
   * Compares this node's reserved namespaces (named keys and secrets) with every peer now, merging
   * what differs both ways; resolves to how many peers completed the comparison (key-freshness.ts).
   */
  async catchUpReserved(): Promise<number> {
    const store = this.options.store();
    const key = this.options.syncKey();
    if (!store || !key) return 0;
    const onlyReserved = (app: string) => isReservedNamespace(BigInt(app));
    const done = await Promise.allSettled(
      this.options
        .peers()
        .map((peer) => this.exchangeDigests(store, key, peer, this.stateOf(peer.wallet), onlyReserved)),
    );
    return done.filter((d) => d.status === "fulfilled").length;
  }

  private async exchangeDigests(
    store: KvReplicaApi,
    key: Uint8Array,
    peer: PeerInfo,
    s: PeerSyncState,
    appFilter: (app: string) => boolean = () => true,
  ): Promise<void> {
    // Roots first (one hash per app), then buckets only for the apps that differ.
    const epoch = store.epoch;
    const rootsReply = await this.options.client.call(
      peer,
      { type: "roots", epoch, roots: store.appRoots() },
      { syncKey: key },
    );
    if (!Array.isArray(rootsReply?.differing)) throw new Error("malformed roots_reply");
    if (rootsReply.stale_store) return this.peerSaysStale(store, peer);
    const apps = (rootsReply.differing as unknown[]).filter(
      (a): a is string => typeof a === "string" && /^[0-9]{1,78}$/.test(a) && appFilter(a),
    );
    if (apps.length === 0) return;
    const digests = apps.slice(0, MAX_DIGEST_APPS).map((app) => store.digest(BigInt(app)));
    const reply = await this.options.client.call(peer, { type: "digest", epoch, digests }, { syncKey: key });
    if (!Array.isArray(reply?.records) || !Array.isArray(reply?.differing)) throw new Error("malformed digest_reply");
    if (reply.stale_store) return this.peerSaysStale(store, peer);
    this.checkPeerStore(peer, reply.epoch);
    if (reply.records.length > 0) store.merge(dropUnknownTombstones(store, reply.records));
    const ours: unknown[] = [];
    for (const { app_id, buckets } of reply.differing as Array<{ app_id: string; buckets: number[] }>) {
      if (!/^[0-9]{1,78}$/.test(app_id) || !Array.isArray(buckets)) continue;
      ours.push(
        ...store.recordsInBuckets(
          BigInt(app_id),
          buckets.filter((b) => Number.isInteger(b)),
        ),
      );
    }
    if (ours.length > 0)
      await this.options.client.call(peer, { type: "repair", epoch, records: ours }, { syncKey: key });
    if (typeof reply.epoch === "string") s.peerEpoch ??= reply.epoch;
  }

  /**
   * Pulls a full snapshot from the first peer that can give one. Recovery ends when a snapshot
   * arrived; when there is no peer, or every peer either answered that it is not serving or refused
   * the connection (nothing listens there: a stopped process, whose memory held nothing it could
   * still give); or — so a member cut off by the network cannot keep the KV API closed forever — at
   * the deadline, with a warning. Otherwise it is retried next round.
   */
  private async recover(store: KvReplicaApi, key: Uint8Array, peers: readonly PeerInfo[]): Promise<void> {
    const recovery = this.recovery!;
    let unreachable = 0;
    for (const peer of peers) {
      try {
        const pages = await this.pullSnapshot(store, key, peer);
        if (pages === "stale") {
          if (this.options.store() !== store) return; // rebuilt: the new store recovers next round
          unreachable++; // a store too young to rebuild on a peer's word: ask the others
          continue;
        }
        this.options.log.info({ peer: peer.wallet, pages }, "recovered the store from a peer snapshot");
        recovery.done = true;
        return;
      } catch (e) {
        const holdsNothing = e instanceof PeerCallError && (e.status === 503 || e.code === "ECONNREFUSED");
        if (!holdsNothing) unreachable++;
        this.options.log.warn(
          { peer: peer.wallet, err: (e as Error).message.split("\n")[0] },
          "snapshot from peer failed",
        );
      }
    }
    if (unreachable === 0) {
      recovery.done = true;
      return;
    }
    if (Date.now() > recovery.deadline) {
      this.options.log.warn(
        { unreachable },
        "no peer snapshot before the recovery deadline; serving with what replication delivers",
      );
      recovery.done = true;
    }
  }

  /**
   * Pages one peer's whole store into ours; returns the number of pages, or "stale" when the peer
   * says our store missed a tombstone collection (then peerSaysStale has decided about a rebuild).
   */
  private async pullSnapshot(store: KvReplicaApi, key: Uint8Array, peer: PeerInfo): Promise<number | "stale"> {
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const page = await this.options.client.call(
        peer,
        { type: "snapshot_request", epoch: store.epoch, cursor },
        { syncKey: key },
      );
      if (!Array.isArray(page?.records) || typeof page?.next !== "number") throw new Error("malformed snapshot_page");
      if (page.stale_store) {
        this.peerSaysStale(store, peer);
        return "stale";
      }
      this.checkPeerStore(peer, page.epoch);
      store.merge(page.records);
      pages++;
      if (!page.more || page.next <= cursor) return pages;
      cursor = page.next;
    }
  }

  /**
   * Drops tombstones every current member has acknowledged (all of them, in our current epoch). A
   * member we cannot contact (its URL refused, its key unusable, or unreachable) acknowledges
   * nothing, so it holds collection back until it is reachable again or leaves the membership.
   */
  private collectTombstones(store: KvReplicaApi, members: readonly string[]): void {
    let through = store.head;
    for (const wallet of members) {
      const s = this.state.get(wallet);
      if (!s || s.ourEpoch !== store.epoch || s.peerEpoch === undefined) return;
      through = Math.min(through, s.acked);
    }
    if (through > 0 && store.collectTombstones(through) > 0) this.options.departed?.collected();
  }
}
