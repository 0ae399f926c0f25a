// The store epochs of members that left the membership while this node collected tombstones.
// Collection waits only for current members, so while a member is out (STOPPED, FAILED, no longer
// zkVerified, version REVOKED) this node may collect deletes it never received. If it comes back with
// the store it had, that store may still hold keys deleted meanwhile, and anti-entropy would copy them
// back everywhere. So such a store is "departed": this node merges nothing from it and tells the
// member, which rebuilds it from a snapshot (a new epoch) and is then welcome again.
//
// Only this node's own collections count, and only while its store is the one that made them: when
// this node rebuilds its store, or itself comes back from a lapse, its verdicts are void (`clear`).
// Otherwise two members back from overlapping lapses could each call the other's store stale, both
// rebuild from each other, and lose everything.

/** Departed stores remembered at most; the oldest are forgotten first. */
const MAX_AWAY = 1024;

export class DepartedStores {
  /** Current members → the epoch of the store they last used with us. */
  private readonly current = new Map<string, string>();
  /** Members out of the membership → the store they had; `missed` once we collected meanwhile. */
  private readonly away = new Map<string, { epoch: string; missed: boolean }>();

  /** A member uses this store epoch. A new epoch ends a departure. */
  saw(wallet: string, epoch: string): void {
    const left = this.away.get(wallet);
    if (left?.epoch === epoch) return;
    this.away.delete(wallet);
    this.current.set(wallet, epoch);
  }

  /**
   * The current members (other than this node). Whoever is no longer among them is away; whoever is
   * back before this node collected anything missed nothing and is current again.
   */
  membership(wallets: Iterable<string>): void {
    const now = new Set(wallets);
    for (const [wallet, epoch] of this.current) {
      if (now.has(wallet)) continue;
      this.current.delete(wallet);
      this.away.set(wallet, { epoch, missed: false });
      if (this.away.size > MAX_AWAY) this.away.delete(this.away.keys().next().value!);
    }
    for (const [wallet, { epoch, missed }] of this.away) {
      if (!now.has(wallet) || missed) continue;
      this.away.delete(wallet);
      this.current.set(wallet, epoch);
    }
  }

  /** This node just collected tombstones: every member away now has missed them. */
  collected(): void {
    for (const entry of this.away.values()) entry.missed = true;
  }

  /** Whether `epoch` is a store that missed a collection here: its records must not be merged. */
  isDeparted(wallet: string, epoch: string | undefined): boolean {
    const entry = this.away.get(wallet);
    return epoch !== undefined && entry?.missed === true && entry.epoch === epoch;
  }

  /** This node's store is no longer the one that collected (rebuilt, or back from a lapse). */
  clear(): void {
    this.away.clear();
  }
}
