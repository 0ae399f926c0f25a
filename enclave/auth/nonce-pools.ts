// One nonce store per channel variant (PROTOCOL.md §2–3): apps and peers draw their nonces from pools
// of their own, so a flood of app nonces cannot push out the nonces peers need for /sync (and the
// other way round), and a nonce redeems only with the verifier of the variant it was issued for.
import type { ChannelKind } from "../protocol/channel.js";
import { NonceStore, type NonceStoreOptions } from "./nonce-store.js";

export class NoncePools {
  private readonly pools: Readonly<Record<ChannelKind, NonceStore>>;

  /** Each pool is bounded by `maxEntries` on its own. */
  constructor(options: NonceStoreOptions) {
    this.pools = { app: new NonceStore(options), peer: new NonceStore(options) };
  }

  issue(kind: ChannelKind): string {
    return this.pools[kind].issue();
  }

  /** True exactly once per unexpired nonce issued for `kind`; a nonce of the other pool is unknown here. */
  consume(nonce: string, kind: ChannelKind): boolean {
    return this.pools[kind].consume(nonce);
  }

  size(kind: ChannelKind): number {
    return this.pools[kind].size;
  }
}
