// Notices when this node's own membership lapses and comes back. While it is out (its instance
// STOPPED, FAILED or no longer zkVerified, or its version REVOKED), its peers stop waiting for it
// and may collect tombstones it never received; the store it kept may hold keys deleted meanwhile
// and can never learn of those deletes. So on its return the node does not serve that store until a
// peer has answered for it: a peer that kept collecting says it is stale and the node rebuilds it
// (departed-stores.ts); otherwise the peer's snapshot is merged in and the node serves as before.

export class MembershipLapse {
  private member = false;
  private lapsed = false;

  /** Feeds one membership reading; true once when the node is a member again after a lapse. */
  observe(isMember: boolean): boolean {
    if (this.member && !isMember) this.lapsed = true;
    this.member = isMember;
    if (!isMember || !this.lapsed) return false;
    this.lapsed = false;
    return true;
  }
}
