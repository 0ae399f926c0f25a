// The two variants of the signed channel (PROTOCOL.md §3): an app calling a node's /kms/* and a node
// calling a peer's /sync. The construction is the same; the header names, the prefix of the signed
// request string and the header of the response signature differ. Both ends read them from here:
// the caller (protocol/signed-call.ts) and the recipient's PoP check (auth/pop-verifier.ts).
import {
  appAuthMessage,
  appResponseMessage,
  peerAuthMessage,
  peerResponseMessage,
  verifyAppResponse,
  verifyPeerResponse,
} from "../crypto/pop.js";

export type ChannelKind = "app" | "peer";

/** The four PoP request headers of one variant (`x-app-*` or `x-kms-*`); `wallet` is optional on the wire. */
export interface PopHeaderNames {
  signature: string;
  nonce: string;
  timestamp: string;
  wallet: string;
}

export interface ChannelVariant {
  kind: ChannelKind;
  /** Where the caller fetches the recipient's nonce: apps and peers draw from separate pools. */
  noncePath: string;
  popHeaders: PopHeaderNames;
  /** The signed request string over the recipient's nonce, the recipient's wallet and the time. */
  authMessage(nonce: string, recipientWallet: string, ts: string | number): string;
  /** The header in which the recipient signs over our request signature. */
  responseSignatureHeader: string;
  /** The string the recipient signs into that header: over the request signature, with its own wallet. */
  responseMessage(requestSignature: string, responderWallet: string): string;
  /** Checks that response signature against the recipient's wallet; returns the signer or throws PopError. */
  verifyResponse(requestSignature: string, recipientWallet: string, responseSignature: string): string;
  /**
   * Whether a 2xx reply must echo our request signature in its sealed JSON (reply-binding.ts).
   * "required" for apps: every node that serves our SDK echoes it. "when_present" for peers: a node
   * from before the echo answers without it, and a rolling upgrade must still reach it (a restarted
   * node fetches the master secret from such a peer); an echo that is present must still match.
   */
  requestEcho: "required" | "when_present";
  /** What the recipient is called in error messages. */
  recipientName: "node" | "peer";
}

function popHeaders(prefix: string): PopHeaderNames {
  return {
    signature: `${prefix}-signature`,
    nonce: `${prefix}-nonce`,
    timestamp: `${prefix}-timestamp`,
    wallet: `${prefix}-wallet`,
  };
}

export const APP_CHANNEL: ChannelVariant = {
  kind: "app",
  noncePath: "/nonce",
  popHeaders: popHeaders("x-app"),
  authMessage: appAuthMessage,
  responseSignatureHeader: "x-kms-response-signature",
  responseMessage: appResponseMessage,
  verifyResponse: (appSignature, nodeWallet, responseSignature) =>
    verifyAppResponse({ appSignature, nodeWallet, responseSignature }),
  requestEcho: "required",
  recipientName: "node",
};

export const PEER_CHANNEL: ChannelVariant = {
  kind: "peer",
  noncePath: "/nonce?for=peer",
  popHeaders: popHeaders("x-kms"),
  authMessage: peerAuthMessage,
  responseSignatureHeader: "x-kms-peer-signature",
  responseMessage: peerResponseMessage,
  verifyResponse: (kmsSignature, responderWallet, responseSignature) =>
    verifyPeerResponse({ kmsSignature, responderWallet, responseSignature }),
  requestEcho: "when_present",
  recipientName: "peer",
};

export const CHANNELS: Readonly<Record<ChannelKind, ChannelVariant>> = { app: APP_CHANNEL, peer: PEER_CHANNEL };
