// The signed strings of the proof-of-possession protocol (PROTOCOL.md §3) and their checks: the four
// of the protocol, and the node's proof that a key is absent (README "API": proven 404).
// Wallets inside signed strings are always canonical lower case, whatever case the caller passed,
// because the two sides must build byte-identical strings. The signature inside a response string
// is kept exactly as received (prefix and case included): that is what the peer signed over.
import { canonicalWallet, recoverPersonalMessageSigner, SignatureFormatError } from "./secp256k1.js";

/**
 * Why a PoP step failed: a field that cannot go into a signed string, a malformed signature (or one
 * no key recovers from), a malformed claimed wallet, or a valid signature by another wallet.
 */
export type PopFailure = "bad_field" | "bad_signature" | "bad_wallet" | "wrong_signer";

export class PopError extends Error {
  override name = "PopError";

  constructor(
    message: string,
    readonly reason: PopFailure,
  ) {
    super(message);
  }
}

// A ':' inside a field would let two different field tuples produce the same signed string.
function field(name: string, value: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw new PopError(`${name} must be a non-empty string`, "bad_field");
  if (value.includes(":")) throw new PopError(`${name} must not contain ':'`, "bad_field");
  return value;
}

/** `NovaKMS:AppAuth:<nonce>:<node_wallet>:<ts>` — app → node request. */
export function appAuthMessage(nonce: string, nodeWallet: string, ts: string | number): string {
  return `NovaKMS:AppAuth:${field("nonce", nonce)}:${canonicalWallet(nodeWallet)}:${field("timestamp", String(ts))}`;
}

/** `NovaKMS:Auth:<nonce>:<recipient_wallet>:<ts>` — node → node request. */
export function peerAuthMessage(nonce: string, recipientWallet: string, ts: string | number): string {
  return `NovaKMS:Auth:${field("nonce", nonce)}:${canonicalWallet(recipientWallet)}:${field("timestamp", String(ts))}`;
}

/** `NovaKMS:Response:<x-app-signature as received>:<node_wallet>` — node → app response. */
export function appResponseMessage(appSignature: string, nodeWallet: string): string {
  return `NovaKMS:Response:${field("app signature", appSignature)}:${canonicalWallet(nodeWallet)}`;
}

/** `NovaKMS:Response:<x-kms-signature as received>:<responder_wallet>` — node → node response. */
export function peerResponseMessage(kmsSignature: string, responderWallet: string): string {
  return `NovaKMS:Response:${field("kms signature", kmsSignature)}:${canonicalWallet(responderWallet)}`;
}

/**
 * `NovaKMS:NotFound:<x-app-signature as received>:<node_wallet>:<operation>:<key>` — the node's
 * statement that, answering that request, it found no value under `key`. The key goes last and
 * verbatim: every field before it is ':'-free, so no two (operation, key) pairs give the same string.
 */
export function appNotFoundMessage(appSignature: string, nodeWallet: string, operation: string, key: string): string {
  const head = `NovaKMS:NotFound:${field("app signature", appSignature)}:${canonicalWallet(nodeWallet)}`;
  return `${head}:${field("operation", operation)}:${key}`;
}

const DECIMAL_RE = /^[0-9]{1,15}$/;

/**
 * `ts` is Unix seconds in decimal digits only (no sign, no exponent, no spaces) and within
 * `windowSec` of `nowSec` in either direction. Past 15 digits it is no timestamp anyone sends.
 */
export function isTimestampFresh(ts: string, nowSec: number, windowSec: number): boolean {
  if (typeof ts !== "string" || !DECIMAL_RE.test(ts)) return false;
  return Math.abs(nowSec - Number(ts)) <= windowSec;
}

/**
 * Recovers the signer of a PoP string. With `claimedWallet` (the optional wallet header or the
 * wallet the response must come from), a different signer is a PopError. Malformed signatures and
 * wallets are PopErrors too, so a caller maps every failure to one 403.
 */
export function verifyPop(args: { message: string; signature: string; claimedWallet?: string | undefined }): string {
  let signer: string;
  try {
    signer = recoverPersonalMessageSigner(args.message, args.signature);
  } catch (err) {
    if (err instanceof SignatureFormatError) throw new PopError(`bad signature: ${err.message}`, "bad_signature");
    throw err;
  }
  if (args.claimedWallet !== undefined) {
    let claimed: string;
    try {
      claimed = canonicalWallet(args.claimedWallet);
    } catch (err) {
      if (err instanceof SignatureFormatError) throw new PopError(`bad wallet: ${err.message}`, "bad_wallet");
      throw err;
    }
    if (claimed !== signer) throw new PopError("signature was not made by the claimed wallet", "wrong_signer");
  }
  return signer;
}

/** Checks a node's response signature over `appResponseMessage(appSignature, nodeWallet)`. */
export function verifyAppResponse(args: {
  appSignature: string;
  nodeWallet: string;
  responseSignature: string;
}): string {
  return verifyPop({
    message: appResponseMessage(args.appSignature, args.nodeWallet),
    signature: args.responseSignature,
    claimedWallet: args.nodeWallet,
  });
}

/** Checks a peer's response signature over `peerResponseMessage(kmsSignature, responderWallet)`. */
export function verifyPeerResponse(args: {
  kmsSignature: string;
  responderWallet: string;
  responseSignature: string;
}): string {
  return verifyPop({
    message: peerResponseMessage(args.kmsSignature, args.responderWallet),
    signature: args.responseSignature,
    claimedWallet: args.responderWallet,
  });
}

/** Checks a node's not-found signature over `appNotFoundMessage(...)`; returns the signer or throws PopError. */
export function verifyAppNotFound(args: {
  appSignature: string;
  nodeWallet: string;
  operation: string;
  key: string;
  notFoundSignature: string;
}): string {
  return verifyPop({
    message: appNotFoundMessage(args.appSignature, args.nodeWallet, args.operation, args.key),
    signature: args.notFoundSignature,
    claimedWallet: args.nodeWallet,
  });
}
