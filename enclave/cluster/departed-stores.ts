// The store epochs of members that left the membership. Tombstone collection waits only for current
// members, so while a member is out (STOPPED, FAILED, no longer zkVerified, version REVOKED) the
// others may collect deletes it never received. If it comes back with the store it had, that store
// may still hold keys deleted meanwhile, and anti-entropy would copy them back everywhere. So a store
// that was in use when its member left is "departed": peers merge nothing from it and tell the
// member, which rebuilds its store from a snapshot (a new epoch) and is then welcome again.
// (A member that notices its own lapse rebuilds by itself: see membership-lapse.ts.)

/** Departed stores remembered at most; the oldest are forgotten first. */
const MAX_DEPARTED = 1024;

export class DepartedStores {
  /** Current members → the epoch of the store they last used with us. */
  private readonly current = new Map<string, string>();
  /** Departed members → the epoch of the store they had when they left. */
  private readonly departed = new Map<string, string>();

  /** A member (or a returning one) uses this store epoch. A new epoch ends a departure. */
  saw(wallet: string, epoch: string): void {
    const left = this.departed.get(wallet);
    if (left === epoch) return;
    if (left !== undefined) this.departed.delete(wallet);
    this.current.set(wallet, epoch);
  }

  /** The current members (other than this node): whoever is no longer among them has departed. */
  membership(wallets: Iterable<string>): void {
    const now = new Set(wallets);
    for (const [wallet, epoch] of this.current) {
      if (now.has(wallet)) continue;
      this.current.delete(wallet);
      this.departed.delete(wallet);
      this.departed.set(wallet, epoch);
      if (this.departed.size > MAX_DEPARTED) this.departed.delete(this.departed.keys().next().value!);
    }
  }

  /** Whether `epoch` is the store `wallet` had when it left: its records must not be merged. */
  isDeparted(wallet: string, epoch: string | undefined): boolean {
    return epoch !== undefined && this.departed.get(wallet) === epoch;
  }
}
