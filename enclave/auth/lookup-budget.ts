// How many registry lookups per second this node may start (REGISTRY_LOOKUPS_PER_SECOND). A token
// bucket holding at most one second's worth, refilled continuously: a burst of new callers is served
// at once, and a stream of made-up signers cannot make the node ask the chain more than this.
export class LookupBudget {
  private tokens: number;
  private refilledAt: number;

  /** `perSecond` 0 means no limit. */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perSecond;
    this.refilledAt = now();
  }

  /** Spends one lookup; false when none is left this second. */
  tryTake(): boolean {
    if (this.perSecond <= 0) return true;
    const t = this.now();
    // A clock stepped backwards refills nothing rather than taking tokens away.
    const elapsedMs = Math.max(0, t - this.refilledAt);
    this.tokens = Math.min(this.perSecond, this.tokens + (elapsedMs * this.perSecond) / 1000);
    this.refilledAt = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
