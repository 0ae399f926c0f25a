// One authenticated, end-to-end encrypted call to one KMS node (PROTOCOL.md §2–5):
//   GET /nonce → sign `NovaKMS:AppAuth:<nonce>:<node wallet>:<ts>` → send the PoP headers and, for
//   requests with a body, an envelope sealed to the node's on-chain teePubkey → on 2xx, require the
//   response signature to recover to the node's on-chain wallet over our own signature, require the
//   response envelope to come from the node's on-chain teePubkey, decrypt, parse.
// The two response checks are what stop a stranger at the node's URL (or on the path) from
// answering in the node's name; both compare against the chain, never against anything the node says.
import { bytesToHex, compareBytes } from "../enclave/crypto/bytes.js";
import { DEFAULT_ENVELOPE_LABEL, parseEnvelope, type EnvelopeLabel, type ParsedEnvelope } from "../enclave/crypto/envelope.js";
import { appAuthMessage, verifyAppResponse } from "../enclave/crypto/pop.js";
import type { KmsNodeInfo } from "./discovery.js";
import { KmsRequestError, KmsResponseVerificationError, KmsTransportError } from "./errors.js";
import { sealJson, type EnclaveIdentity } from "../enclave/protocol/identity.js";

/** The part of a TEE an app needs to talk to the KMS: its wallet and its P-384 envelope key. */
export type AppTee = EnclaveIdentity;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type KmsMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface SignedRequest {
  method: KmsMethod;
  /** Path below the node's base URL, starting with `/` (already URL-encoded). */
  path: string;
  /** Inner JSON for POST/PUT/DELETE; sealed in an envelope. GET sends no body. */
  body?: unknown;
}

export interface SignedRequestContext {
  fetch: FetchLike;
  tee: AppTee;
  /** The app's own lower-case wallet (sent as `x-app-wallet`). */
  appWallet: string;
  node: KmsNodeInfo;
  /** Budget for the whole exchange (nonce + call + body), per node. */
  timeoutMs: number;
  nowSeconds?: () => number;
  /** HKDF label of the request envelope; the reply must come under the same one. Default capsule. */
  label?: EnvelopeLabel;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** fetch + body read under one deadline, with failures mapped to KmsTransportError. */
type ExchangeContext = Pick<SignedRequestContext, "fetch" | "node" | "timeoutMs">;

async function exchange(ctx: ExchangeContext, signal: AbortSignal, path: string, init: RequestInit): Promise<{ res: Response; text: string }> {
  const url = ctx.node.url + path;
  try {
    const res = await ctx.fetch(url, { ...init, signal, redirect: "error" });
    const text = await res.text();
    return { res, text };
  } catch (e) {
    if (signal.aborted) {
      throw new KmsTransportError("timeout", `${init.method ?? "GET"} ${path}: no answer from ${ctx.node.url} within ${ctx.timeoutMs} ms`, ctx.node.url, { cause: e });
    }
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new KmsTransportError("network", `${init.method ?? "GET"} ${path}: cannot reach ${ctx.node.url} (${detail})`, ctx.node.url, { cause: e });
  }
}

/** A non-2xx answer as a typed error; the protocol's error bodies are plaintext `{code, message}`. */
export function requestErrorOf(status: number, text: string, node: string): KmsRequestError {
  let code = `http_${status}`;
  let message = text.trim().slice(0, 300) || `HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.message === "string") message = body.message;
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the start of the text as the message.
  }
  return new KmsRequestError(status, code, message, node);
}

async function fetchNonce(ctx: SignedRequestContext, signal: AbortSignal): Promise<string> {
  const { res, text } = await exchange(ctx, signal, "/nonce", { method: "GET" });
  if (!res.ok) throw requestErrorOf(res.status, text, ctx.node.url);
  let nonce: unknown;
  try {
    nonce = (JSON.parse(text) as { nonce?: unknown }).nonce;
  } catch {
    nonce = undefined;
  }
  if (typeof nonce !== "string" || nonce.length === 0 || nonce.includes(":")) {
    throw new KmsResponseVerificationError(`${ctx.node.url}/nonce did not return a usable nonce`, ctx.node.url);
  }
  return nonce;
}

function verificationError(ctx: SignedRequestContext, what: string, cause?: unknown): KmsResponseVerificationError {
  return new KmsResponseVerificationError(`response from ${ctx.node.url} rejected: ${what}`, ctx.node.url, cause === undefined ? undefined : { cause });
}

/** Checks and opens a 2xx response; every failure is a KmsResponseVerificationError. */
async function openResponse(
  ctx: SignedRequestContext,
  appSignature: string,
  res: Response,
  text: string,
  sentLabel: EnvelopeLabel | undefined,
): Promise<unknown> {
  const responseSignature = res.headers.get("x-kms-response-signature");
  if (!responseSignature) throw verificationError(ctx, "missing x-kms-response-signature");
  try {
    verifyAppResponse({ appSignature, nodeWallet: ctx.node.wallet, responseSignature });
  } catch (e) {
    throw verificationError(ctx, "response signature is not from the node's on-chain wallet", e);
  }

  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelope(JSON.parse(text));
  } catch (e) {
    throw verificationError(ctx, `body is not an envelope (${(e as Error).message})`, e);
  }
  // parseEnvelope returns SEC1 and discovery stored SEC1, so byte equality is point equality.
  if (compareBytes(envelope.senderPublicKey, ctx.node.teePubkey) !== 0) {
    throw verificationError(ctx, `envelope sender ${bytesToHex(envelope.senderPublicKey).slice(0, 16)}… is not the node's on-chain teePubkey`);
  }
  let plaintext: Uint8Array;
  try {
    const opened = await ctx.tee.decryptFrom(envelope);
    // A reply to a body comes under the body's label (PROTOCOL.md §5); a GET sent none, so the node
    // picks. A TEE that cannot name the label (an enclave runtime) opens only its own anyway.
    if (sentLabel !== undefined && opened.label !== undefined && opened.label !== sentLabel) {
      throw verificationError(ctx, `reply sealed under ${opened.label}, request under ${sentLabel}`);
    }
    plaintext = opened.plaintext;
  } catch (e) {
    if (e instanceof KmsResponseVerificationError) throw e;
    throw verificationError(ctx, "envelope does not decrypt", e);
  }
  try {
    return JSON.parse(strictUtf8.decode(plaintext));
  } catch (e) {
    throw verificationError(ctx, "decrypted payload is not JSON", e);
  }
}

/**
 * Performs one signed call and returns the decrypted inner JSON. Throws KmsRequestError (non-2xx),
 * KmsTransportError (unreachable, timeout) or KmsResponseVerificationError (bad proof in a 2xx).
 */
export async function signedRequest(ctx: SignedRequestContext, request: SignedRequest): Promise<unknown> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  const nonce = await fetchNonce(ctx, signal);
  const ts = String((ctx.nowSeconds ?? (() => Math.floor(Date.now() / 1000)))());
  const signature = await ctx.tee.signMessage(appAuthMessage(nonce, ctx.node.wallet, ts));

  const headers: Record<string, string> = {
    "x-app-signature": signature,
    "x-app-nonce": nonce,
    "x-app-timestamp": ts,
    "x-app-wallet": ctx.appWallet,
  };
  const init: RequestInit = { method: request.method, headers };
  let sentLabel: EnvelopeLabel | undefined;
  if (request.method !== "GET") {
    sentLabel = ctx.label ?? DEFAULT_ENVELOPE_LABEL;
    const envelope = await sealJson(ctx.tee, ctx.node.teePubkey, request.body ?? {}, sentLabel);
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(envelope);
  }

  const { res, text } = await exchange(ctx, signal, request.path, init);
  if (!res.ok) throw requestErrorOf(res.status, text, ctx.node.url);
  return openResponse(ctx, signature, res, text, sentLabel);
}

/** An unauthenticated GET (`/kms/ca`, `/status`): the answer is only as good as the node that sent it. */
export async function publicGet(ctx: ExchangeContext, path: string): Promise<{ contentType: string; text: string }> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  const { res, text } = await exchange(ctx, signal, path, { method: "GET" });
  if (!res.ok) throw requestErrorOf(res.status, text, ctx.node.url);
  return { contentType: res.headers.get("content-type") ?? "", text };
}
