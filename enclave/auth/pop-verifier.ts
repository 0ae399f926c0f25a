// Verifies a proof of possession (PROTOCOL.md §3) for app → node and node → node requests.
// Every failure is a 403 with a reason label for metrics; the order of checks makes a
// nonce single-use even when the signature that came with it is bad.
import { isTimestampFresh, PopError, verifyPop } from "../crypto/pop.js";
import { forbidden, type KmsError } from "../errors.js";
import { CHANNELS, type ChannelKind } from "../protocol/channel.js";

export type PopKind = ChannelKind;

export interface PopHeaders {
  signature?: string | undefined;
  nonce?: string | undefined;
  timestamp?: string | undefined;
  wallet?: string | undefined;
}

/** Reads `x-app-*` or `x-kms-*` PoP headers through any header getter. */
export function readPopHeaders(kind: PopKind, header: (name: string) => string | undefined): PopHeaders {
  const names = CHANNELS[kind].popHeaders;
  return {
    signature: header(names.signature),
    nonce: header(names.nonce),
    timestamp: header(names.timestamp),
    wallet: header(names.wallet),
  };
}

export function hasAnyPopHeader(headers: PopHeaders): boolean {
  return Boolean(headers.signature || headers.nonce || headers.timestamp || headers.wallet);
}

export interface VerifiedPop {
  /** Lower-case wallet recovered from the signature. */
  wallet: string;
  /** The signature exactly as received; the response signature covers it. */
  signature: string;
}

/**
 * Where a PoP's nonce is redeemed, for the variant being verified: the node's NoncePools (one pool
 * per variant). A single NonceStore also fits, for a test double that serves both variants.
 */
export interface NonceRedeemer {
  consume(nonce: string, kind: PopKind): boolean;
}

export interface PopVerifierOptions {
  nonces: NonceRedeemer;
  /** This node's lower-case wallet: the recipient named in the signed string. */
  ownWallet: string;
  windowSeconds: number;
  nowSeconds?: () => number;
}

export class PopVerifier {
  private readonly nowSeconds: () => number;

  constructor(private readonly options: PopVerifierOptions) {
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  verify(kind: PopKind, headers: PopHeaders): VerifiedPop {
    const { signature, nonce, timestamp, wallet } = headers;
    if (!signature || !nonce || !timestamp) {
      throw forbidden("Missing proof-of-possession headers", "pop_missing_headers");
    }
    if (!isTimestampFresh(timestamp, this.nowSeconds(), this.options.windowSeconds)) {
      throw forbidden("Timestamp outside the allowed window", "pop_stale_timestamp");
    }
    if (!this.options.nonces.consume(nonce, kind)) {
      throw forbidden("Invalid or reused nonce", "pop_bad_nonce");
    }
    const message = CHANNELS[kind].authMessage(nonce, this.options.ownWallet, timestamp);
    try {
      // verifyPop recovers the signer before it looks at the wallet header, which keeps the order.
      return { wallet: verifyPop({ message, signature, claimedWallet: wallet }), signature };
    } catch (err) {
      throw popForbidden(err);
    }
  }
}

function popForbidden(err: unknown): KmsError {
  const reason = err instanceof PopError ? err.reason : undefined;
  if (reason === "bad_wallet") return forbidden("Malformed wallet header", "pop_wallet_mismatch");
  if (reason === "wrong_signer") return forbidden("Wallet header does not match the signature", "pop_wallet_mismatch");
  return forbidden("Invalid signature", "pop_bad_signature");
}
