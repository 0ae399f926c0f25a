// Verifies a proof of possession (PROTOCOL.md §3) for app → node and node → node requests.
// Every failure is a 403 with a reason label for metrics; the order of checks makes a
// nonce single-use even when the signature that came with it is bad.
import { appAuthMessage, isTimestampFresh, peerAuthMessage } from "../crypto/pop.js";
import { canonicalWallet, recoverPersonalMessageSigner } from "../crypto/secp256k1.js";
import { forbidden } from "../errors.js";
import type { NonceStore } from "./nonce-store.js";

export type PopKind = "app" | "peer";

export interface PopHeaders {
  signature?: string | undefined;
  nonce?: string | undefined;
  timestamp?: string | undefined;
  wallet?: string | undefined;
}

const HEADER_PREFIX: Record<PopKind, string> = { app: "x-app", peer: "x-kms" };

/** Reads `x-app-*` or `x-kms-*` PoP headers through any header getter. */
export function readPopHeaders(kind: PopKind, header: (name: string) => string | undefined): PopHeaders {
  const p = HEADER_PREFIX[kind];
  return {
    signature: header(`${p}-signature`),
    nonce: header(`${p}-nonce`),
    timestamp: header(`${p}-timestamp`),
    wallet: header(`${p}-wallet`),
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

export interface PopVerifierOptions {
  nonces: NonceStore;
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
    if (!this.options.nonces.consume(nonce)) {
      throw forbidden("Invalid or reused nonce", "pop_bad_nonce");
    }
    const build = kind === "app" ? appAuthMessage : peerAuthMessage;
    const message = build(nonce, this.options.ownWallet, timestamp);
    let signer: string;
    try {
      signer = recoverPersonalMessageSigner(message, signature);
    } catch {
      throw forbidden("Invalid signature", "pop_bad_signature");
    }
    if (wallet !== undefined) {
      let claimed: string;
      try {
        claimed = canonicalWallet(wallet);
      } catch {
        throw forbidden("Malformed wallet header", "pop_wallet_mismatch");
      }
      if (claimed !== signer) throw forbidden("Wallet header does not match the signature", "pop_wallet_mismatch");
    }
    return { wallet: signer, signature };
  }
}
