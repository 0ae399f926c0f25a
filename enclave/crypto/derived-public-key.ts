// The public half of an app's derived secp256k1 key (PROTOCOL.md §12, `GET /derived_public_key`):
// the 32 bytes `/kms/derive` gives an app for a path and context, taken as a private key, answered
// only as its public key and Ethereum address, and the node's signed statement about it,
//   NovaKMS:DerivedPublicKey:<app_id>:<path>:<context>:<address>
// so a dapp can register an app's future address before the app first runs. Pure functions, no I/O:
// the node builds the answer with them, the SDK checks one.
//
// The string is the protocol's, and `path` and `context` may contain ':'. App id (decimal) and
// address (0x + 40 hex) cannot, so only the split of `<path>:<context>` is ambiguous. Two splits with
// non-empty contexts derive the same key (the KDF's info is `<path>:<context>` too), so they are the
// same statement. An empty context is the one case that differs (info is `<path>` alone): `a:b` with
// context "" signs `a:b::<address>`, exactly what path `a` with context `b:` would sign. So a context
// may not end with ':' here (the node refuses it, the verifier too): then a signed middle part that
// ends with ':' always means an empty context, and every other one means the same key however split.
import { secp256k1 as nobleSecp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "./bytes.js";
import { activeSecp256k1, canonicalWallet, recoverPersonalMessageSigner, SignatureFormatError } from "./secp256k1.js";

export const DERIVED_PUBLIC_KEY_TAG = "NovaKMS:DerivedPublicKey";
/** Bytes of the derived key (`/kms/derive`'s default length): one secp256k1 private key. */
export const DERIVED_PRIVATE_KEY_BYTES = 32;
/** Same bounds as `POST /kms/derive`. */
export const MAX_DERIVED_PATH_CHARS = 1024;
export const MAX_DERIVED_CONTEXT_CHARS = 4096;
/** App ids are uint256 on chain; 0 is no app. */
export const MAX_APP_ID = (1n << 256n) - 1n;

/** A request or an answer that cannot be a derived-public-key statement (bad field, bad signature, …). */
export class DerivedPublicKeyError extends Error {
  override name = "DerivedPublicKeyError";
}

/** The 32 derived bytes are 0 or ≥ the curve order: no secp256k1 key exists for this path and context. */
export class NotASecp256k1KeyError extends Error {
  override name = "NotASecp256k1KeyError";
}

/** What a statement is about: one app's key for one path and context. */
export interface DerivedKeyRequest {
  appId: bigint;
  path: string;
  /** "" when the app derives without a context. */
  context: string;
}

/** The node's answer, as sent (`GET /derived_public_key`). */
export interface DerivedPublicKeyAnswer {
  /** Decimal, no leading zeros. */
  app_id: string;
  path: string;
  context: string;
  /** Uncompressed SEC1 (65 bytes, `04…`), lower-case hex without 0x. */
  public_key: string;
  /** Lower-case 0x address: keccak256(public_key without its 04)[12:]. */
  address: string;
  /** Lower-case 0x wallet of the node that signed. */
  node_wallet: string;
  /** EIP-191 personal_sign over `derivedPublicKeyMessage`, 0x ‖ r ‖ s ‖ v with v ∈ {0, 1}. */
  signature: string;
}

/** Throws DerivedPublicKeyError when the request is outside what the route answers. */
export function checkDerivedKeyRequest(request: DerivedKeyRequest): void {
  const { appId, path, context } = request;
  if (typeof appId !== "bigint" || appId <= 0n || appId > MAX_APP_ID)
    throw new DerivedPublicKeyError("app_id must be an integer in 1..2^256-1");
  if (typeof path !== "string" || path.length === 0) throw new DerivedPublicKeyError("path must be a non-empty string");
  if (path.length > MAX_DERIVED_PATH_CHARS)
    throw new DerivedPublicKeyError(`path must be at most ${MAX_DERIVED_PATH_CHARS} characters`);
  if (typeof context !== "string") throw new DerivedPublicKeyError("context must be a string");
  if (context.length > MAX_DERIVED_CONTEXT_CHARS)
    throw new DerivedPublicKeyError(`context must be at most ${MAX_DERIVED_CONTEXT_CHARS} characters`);
  if (context.endsWith(":")) throw new DerivedPublicKeyError("context must not end with ':'");
}

/** `NovaKMS:DerivedPublicKey:<app_id>:<path>:<context>:<address>` (context may be empty). */
export function derivedPublicKeyMessage(request: DerivedKeyRequest, address: string): string {
  checkDerivedKeyRequest(request);
  let wallet: string;
  try {
    wallet = canonicalWallet(address);
  } catch (e) {
    throw new DerivedPublicKeyError(`address: ${(e as Error).message}`);
  }
  return `${DERIVED_PUBLIC_KEY_TAG}:${request.appId.toString()}:${request.path}:${request.context}:${wallet}`;
}

function addressOf(uncompressed65: Uint8Array): string {
  return `0x${bytesToHex(keccak_256(uncompressed65.subarray(1)).subarray(12))}`;
}

/**
 * The public key (uncompressed SEC1, 65 bytes) and address of the derived 32 bytes taken as a
 * secp256k1 private key. NotASecp256k1KeyError when they are 0 or ≥ n (odds about 2^-128).
 */
export function derivedPublicKey(privateKey32: Uint8Array): { publicKey: Uint8Array; address: string } {
  if (privateKey32.length !== DERIVED_PRIVATE_KEY_BYTES) throw new Error("derived key must be 32 bytes");
  if (!nobleSecp256k1.utils.isValidSecretKey(privateKey32))
    throw new NotASecp256k1KeyError("the derived key for this path and context is not a valid secp256k1 private key");
  const publicKey = activeSecp256k1.publicKey(privateKey32);
  return { publicKey, address: addressOf(publicKey) };
}

/**
 * Checks an answer against what was asked and the wallet it must come from: every field echoes
 * the request, `public_key` is an uncompressed point on the curve, `address` is its address, and
 * `signature` recovers to `nodeWallet` over the statement. Returns the public key's bytes; throws
 * DerivedPublicKeyError naming the first problem.
 */
export function verifyDerivedPublicKey(
  answer: DerivedPublicKeyAnswer,
  asked: DerivedKeyRequest,
  nodeWallet: string,
): Uint8Array {
  checkDerivedKeyRequest(asked);
  if (answer.app_id !== asked.appId.toString()) throw new DerivedPublicKeyError("app_id is not the one asked for");
  if (answer.path !== asked.path) throw new DerivedPublicKeyError("path is not the one asked for");
  if (answer.context !== asked.context) throw new DerivedPublicKeyError("context is not the one asked for");
  const wallet = canonicalWallet(nodeWallet);
  if (answer.node_wallet !== wallet) throw new DerivedPublicKeyError("node_wallet is not the node's on-chain wallet");
  if (!/^04[0-9a-f]{128}$/.test(answer.public_key))
    throw new DerivedPublicKeyError("public_key is not 65-byte uncompressed SEC1 lower-case hex");
  const publicKey = hexToBytes(answer.public_key);
  try {
    nobleSecp256k1.Point.fromBytes(publicKey).assertValidity();
  } catch {
    throw new DerivedPublicKeyError("public_key is not a point on secp256k1");
  }
  if (answer.address !== addressOf(publicKey)) throw new DerivedPublicKeyError("address is not public_key's address");
  let signer: string;
  try {
    signer = recoverPersonalMessageSigner(derivedPublicKeyMessage(asked, answer.address), answer.signature);
  } catch (e) {
    if (e instanceof SignatureFormatError) throw new DerivedPublicKeyError(`signature: ${e.message}`);
    throw e;
  }
  if (signer !== wallet) throw new DerivedPublicKeyError("signature was not made by the node's wallet");
  return publicKey;
}
