// How a lifecycle change of a named key or secret becomes a cluster-wide fact (README "Keys:
// replication"):
//  1. this node takes the resource's lease from every member that answers and from a majority of
//     all members (key-leases.ts); the grants carry each member's records of the resource, merged
//     here first, so the change applies to the newest state any member has;
//  2. the change is written to the local store (it returns the change-log position);
//  3. the answer waits until every member that granted — and at least a majority — has
//     acknowledged that position; otherwise 503 insufficient_replicas (applied here, converges,
//     not guaranteed), as for KV writes;
//  4. the lease is released everywhere.
// Version numbers therefore never collide, a concurrent rotation waits for the other one instead
// of losing its version, and a change acknowledged by one node is held by every member that was
// answering at the time. Members that were not (stopped, cut off) catch up before they use a key
// again (key-freshness.ts).
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { KmsError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Commits } from "../keys/named-keys.js";
import { resourceId, type Resource } from "../keys/key-records.js";
import { DEFAULT_LEASE_TTL_MS, type LeaseTable } from "./key-leases.js";
import type { PeerInfo } from "./peer-directory.js";

export interface LeaseAnswer {
  granted: boolean;
  records: unknown[];
}

export interface ClusterCommitsOptions {
  /** This node's wallet (the lease holder name). */
  self: string;
  leases: LeaseTable;
  /** Peers this node may contact (registered, policy-allowed; itself excluded). */
  peers(): readonly PeerInfo[];
  /** Registered members, this node included: what a majority is counted of. */
  memberCount(): number;
  askLease(peer: PeerInfo, resource: Resource, leaseId: string, ttlMs: number): Promise<LeaseAnswer>;
  releaseLease(peer: PeerInfo, resource: Resource, leaseId: string): Promise<void>;
  /** Merges peers' records into the local store. */
  merge(records: unknown[]): void;
  /** Resolves once `peersNeeded` peers hold `position` of our change log; 503 insufficient_replicas otherwise. */
  replicated(position: number, peersNeeded: number): Promise<void>;
  /** Resolves when this node's key records are current (key-freshness.ts). */
  fresh(): Promise<void>;
  log: Logger;
  leaseTtlMs?: number;
  /** How long to keep trying for a lease another node holds (default 5,000 ms). */
  acquireTimeoutMs?: number;
  /**
   * A change not under way this long after its request began is not begun at all (503, nothing
   * changed), so that its answer — which may still wait for replicas — comes before the request
   * times out: a timed-out change would leave the caller not knowing whether it happened, and a
   * client that retries it elsewhere could rotate twice. Default 6,000 ms.
   */
  startDeadlineMs?: number;
}

export class ClusterCommits implements Commits {
  /** Per-resource queue: changes from this node to one resource run one after the other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ClusterCommitsOptions) {}

  fresh(): Promise<void> {
    return this.options.fresh();
  }

  async commit<T>(resource: Resource, change: () => { value: T; position?: number }): Promise<T> {
    const id = resourceId(resource);
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.commitNow(resource, change));
    this.queues.set(id, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(id) === run) this.queues.delete(id);
    }
  }

  private async commitNow<T>(resource: Resource, change: () => { value: T; position?: number }): Promise<T> {
    const started = Date.now();
    await this.options.fresh();
    const lease = await this.acquire(resource);
    try {
      if (Date.now() - started > (this.options.startDeadlineMs ?? 6_000)) {
        throw new KmsError(
          "service_unavailable",
          `${resource.kind} ${resource.name}: too slow to start; nothing changed`,
        );
      }
      const { value, position } = change();
      if (position !== undefined) {
        const majority = Math.floor(this.options.memberCount() / 2) + 1;
        await this.options.replicated(position, Math.max(lease.granters.length, majority - 1));
      }
      return value;
    } finally {
      this.release(resource, lease.id, this.options.peers());
    }
  }

  private async acquire(resource: Resource): Promise<{ id: string; granters: PeerInfo[] }> {
    const rid = resourceId(resource);
    const ttl = this.options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const deadline = Date.now() + (this.options.acquireTimeoutMs ?? 5_000);
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(16).toString("hex");
      if (this.options.leases.tryGrant(rid, this.options.self, id, ttl)) {
        const peers = this.options.peers();
        const answers = await Promise.allSettled(peers.map((p) => this.options.askLease(p, resource, id, ttl)));
        const granters: PeerInfo[] = [];
        let refused = 0;
        answers.forEach((a, i) => {
          if (a.status !== "fulfilled") return;
          if (a.value.granted) granters.push(peers[i]!);
          else refused++;
          if (a.value.records.length > 0) this.options.merge(a.value.records);
        });
        const members = this.options.memberCount();
        const majority = Math.floor(members / 2) + 1;
        if (refused === 0 && 1 + granters.length >= majority) return { id, granters };
        this.release(resource, id, granters);
        if (refused === 0) {
          throw new KmsError(
            "service_unavailable",
            `a key change needs a majority of the ${members} members; ${1 + granters.length} answered`,
          );
        }
      }
      if (Date.now() >= deadline) {
        throw new KmsError("service_unavailable", `another node is changing ${resource.kind} ${resource.name}; retry`);
      }
      // Random backoff, growing: two nodes that asked at once do not collide again in lockstep.
      await sleep(10 + Math.random() * Math.min(400, 25 * 2 ** attempt));
    }
  }

  /** Gives the lease back everywhere it may be held; peers that miss this let it expire. */
  private release(resource: Resource, id: string, peers: readonly PeerInfo[]): void {
    this.options.leases.release(resourceId(resource), id);
    for (const peer of peers) {
      this.options.releaseLease(peer, resource, id).catch((e: Error) => {
        this.options.log.debug({ peer: peer.wallet, err: e.message }, "lease release not delivered");
      });
    }
  }
}
