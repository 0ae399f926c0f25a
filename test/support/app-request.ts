// Builds app → node requests by hand, with knobs to break each part of the protocol
// (PROTOCOL.md §3, §5), so tests can prove every rejection. The SDK in client/ is the
// well-behaved path; this is the adversarial one.
import { utf8 } from "../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../enclave/crypto/canonical-json.js";
import { parseEnvelope, type EnvelopeLabel } from "../../enclave/crypto/envelope.js";
import { appAuthMessage, appResponseMessage } from "../../enclave/crypto/pop.js";
import { recoverPersonalMessageSigner } from "../../enclave/crypto/secp256k1.js";
import type { Tee } from "../../enclave/tee/tee.js";

export interface NodeTarget {
  url: string;
  wallet: string;
  /** SEC1 or SPKI of the node's registered key. */
  teePublicKey: Uint8Array;
}

export interface AppRequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  /** Send this raw string as the body instead of an envelope. */
  rawBody?: string;
  /** PoP headers to leave out. */
  omit?: Array<"signature" | "nonce" | "timestamp">;
  timestamp?: number;
  nonce?: string;
  /** Sign with this TEE instead of the caller's (bad signature / wrong wallet). */
  signer?: Tee;
  /** Put this wallet in the signed string instead of the node's. */
  recipientWallet?: string;
  walletHeader?: string | null;
  /** Encrypt the body with this TEE instead of the caller's (sender key ≠ on chain). */
  envelopeSender?: Tee;
  /** Use the dev shortcut header instead of PoP. */
  devWallet?: string;
  headers?: Record<string, string>;
  /** Envelope label of the request body (default: the sender TEE's own). */
  label?: EnvelopeLabel;
}

export interface AppResponse {
  status: number;
  headers: Headers;
  /** Plaintext error body, or the envelope of a success. */
  raw: unknown;
  /** Decrypted inner JSON of a success. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the route they called answers with.
  json?: any;
  /** The signature we sent, for response-signature checks. */
  sentSignature?: string;
  /** The label the reply envelope was sealed under. */
  label?: EnvelopeLabel | undefined;
}

export async function fetchNonce(url: string): Promise<string> {
  const res = await fetch(`${url}/nonce`);
  const body = (await res.json()) as { nonce: string };
  return body.nonce;
}

export async function appRequest(node: NodeTarget, caller: Tee, options: AppRequestOptions): Promise<AppResponse> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  let sentSignature: string | undefined;
  if (options.devWallet) {
    headers["x-tee-wallet"] = options.devWallet;
  } else {
    const nonce = options.nonce ?? (await fetchNonce(node.url));
    const ts = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signer = options.signer ?? caller;
    sentSignature = await signer.signMessage(appAuthMessage(nonce, options.recipientWallet ?? node.wallet, ts));
    const omit = new Set(options.omit ?? []);
    if (!omit.has("signature")) headers["x-app-signature"] = sentSignature;
    if (!omit.has("nonce")) headers["x-app-nonce"] = nonce;
    if (!omit.has("timestamp")) headers["x-app-timestamp"] = ts;
    const walletHeader = options.walletHeader === undefined ? await caller.address() : options.walletHeader;
    if (walletHeader !== null) headers["x-app-wallet"] = walletHeader;
  }
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    const sender = options.envelopeSender ?? caller;
    body = JSON.stringify(await sender.encryptTo(node.teePublicKey, utf8(canonicalJson(options.body)), options.label));
  }
  const res = await fetch(`${node.url}${options.path}`, { method: options.method, headers, body });
  const text = await res.text();
  let raw: unknown = text;
  try {
    raw = JSON.parse(text);
  } catch {
    // Non-JSON bodies (PEM) stay text.
  }
  const response: AppResponse = { status: res.status, headers: res.headers, raw, sentSignature };
  if (res.ok && raw && typeof raw === "object" && "encrypted_data" in raw) {
    const opened = await caller.decryptFrom(parseEnvelope(raw));
    response.json = JSON.parse(new TextDecoder().decode(opened.plaintext));
    response.label = opened.label;
  }
  return response;
}

export function verifyResponseSignature(response: AppResponse, nodeWallet: string): boolean {
  const sig = response.headers.get("x-kms-response-signature");
  if (!sig || !response.sentSignature) return false;
  return recoverPersonalMessageSigner(appResponseMessage(response.sentSignature, nodeWallet), sig) === nodeWallet;
}
