// The lease table each node keeps for lifecycle changes of named keys and secrets (README "Keys:
// replication"). A node that wants to change a key first asks every member for the key's lease;
// a member grants it unless another holder's lease on it is still live. The asker proceeds only
// with the grant of every member that answered and of a majority of all members, so two nodes can
// never change one key at the same time: at most one of two overlapping majorities exists.
// Leases expire on their own (a holder that dies blocks the key for at most the lease time).

interface Lease {
  holder: string;
  id: string;
  expiresAt: number;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Grants the lease on `resource` to `holder` unless someone else holds a live one. A holder
   * asking again (a retry with a new id) replaces its own lease.
   */
  tryGrant(resource: string, holder: string, id: string, ttlMs: number): boolean {
    const now = this.now();
    const current = this.leases.get(resource);
    if (current && current.expiresAt > now && current.holder !== holder) return false;
    this.leases.set(resource, { holder, id, expiresAt: now + ttlMs });
    this.prune(now);
    return true;
  }

  /** Ends the lease if it is still the one with this id (a later lease is left alone). */
  release(resource: string, id: string): void {
    if (this.leases.get(resource)?.id === id) this.leases.delete(resource);
  }

  /** Live leases (for tests and /status). */
  get size(): number {
    this.prune(this.now());
    return this.leases.size;
  }

  private prune(now: number): void {
    if (this.leases.size < 1024) return;
    for (const [resource, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(resource);
  }
}
