// The node's PoP check and the nonce pools it redeems from, built from one window
// (POP_TIMEOUT_SECONDS): how far a request's timestamp may be from now, and how long an issued nonce
// stays redeemable. Nonces are single use, so a request that was sent cannot be replayed; the window
// bounds how long a signed request that was held back (never delivered) stays usable — at most that
// long after its nonce was issued, whatever timestamp it carries — and how long an unused nonce
// occupies memory.
import { NoncePools } from "./nonce-pools.js";
import { PopVerifier } from "./pop-verifier.js";

export interface PopAuthOptions {
  /** POP_TIMEOUT_SECONDS. */
  windowSeconds: number;
  /** NONCE_STORE_MAX: outstanding nonces per pool. */
  maxNoncesPerPool: number;
  /** This node's lower-case wallet. */
  ownWallet: string;
  /** Injectable clock (ms) for tests. */
  now?: () => number;
}

export function createPopAuth(options: PopAuthOptions): { nonces: NoncePools; pop: PopVerifier } {
  const now = options.now ?? Date.now;
  const nonces = new NoncePools({ ttlMs: options.windowSeconds * 1000, maxEntries: options.maxNoncesPerPool, now });
  const pop = new PopVerifier({
    nonces,
    ownWallet: options.ownWallet,
    windowSeconds: options.windowSeconds,
    nowSeconds: () => Math.floor(now() / 1000),
  });
  return { nonces, pop };
}
