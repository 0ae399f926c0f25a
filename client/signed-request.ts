// One authenticated, end-to-end encrypted call to one KMS node (PROTOCOL.md §2–5) over the SDK's
// transport: the protocol steps and the reply checks are enclave/protocol/signed-call.ts (app
// variant); this file gives it an injectable fetch under one deadline per node, reads no more of
// any answer than the call's byte bound, checks the proof of a 404 that would mean "absent", and
// turns failures into the SDK's typed errors.
import { DEFAULT_ENVELOPE_LABEL, type EnvelopeLabel } from "../enclave/crypto/envelope.js";
import { readBoundedText, ResponseTooLargeError } from "../enclave/protocol/bounded-body.js";
import { APP_CHANNEL } from "../enclave/protocol/channel.js";
import type { EnclaveIdentity } from "../enclave/protocol/identity.js";
import type { LookupOperation } from "../enclave/protocol/operations.js";
import { NOT_FOUND_SIGNATURE_HEADER, provesNotFound } from "../enclave/protocol/reply-binding.js";
import {
  ChannelReplyError,
  ChannelStatusError,
  signedCall,
  type CallRequest,
  type SendRequest,
  type WireRequest,
} from "../enclave/protocol/signed-call.js";
import type { KmsNodeInfo } from "./discovery.js";
import {
  KmsConflictError,
  KmsNotFoundError,
  KmsRequestError,
  KmsResponseVerificationError,
  KmsTransportError,
} from "./errors.js";

/** The part of a TEE an app needs to talk to the KMS: its wallet and its P-384 envelope key. */
export type AppTee = EnclaveIdentity;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Path below the node's base URL (already URL-encoded); the body is sealed for every method but GET.
 * `lookup` marks a KV read or delete: a 404 to it means "absent" only with the node's proof.
 */
export type SignedRequest = CallRequest & {
  lookup?: { operation: LookupOperation; key: string };
};

/**
 * Default bound on an answer's body: the largest a node sends is a KV value of 1 MiB (the store's
 * ceiling), ≈ 1.4 MB of base64 in JSON, hex-encoded in the envelope ≈ 2.8 MB. A key list can be
 * longer (kv.list takes its own bound).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

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
  /** Bytes read of each answer (the nonce's and the call's) at most; default DEFAULT_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** fetch + bounded body read under one deadline, with failures mapped to KmsTransportError. */
type ExchangeContext = Pick<SignedRequestContext, "fetch" | "node" | "timeoutMs" | "maxResponseBytes">;

async function exchange(
  ctx: ExchangeContext,
  signal: AbortSignal,
  path: string,
  init: RequestInit,
): Promise<{ res: Response; text: string }> {
  const url = ctx.node.url + path;
  try {
    const res = await ctx.fetch(url, { ...init, signal, redirect: "error" });
    const limit = ctx.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const text = await readBoundedText(res.body, limit, res.headers.get("content-length"));
    return { res, text };
  } catch (e) {
    if (e instanceof ResponseTooLargeError) {
      const what = `${init.method ?? "GET"} ${path}: answer from ${ctx.node.url}`;
      throw new KmsResponseVerificationError(`${what} exceeds ${e.limit} bytes; not read`, ctx.node.url, { cause: e });
    }
    if (signal.aborted) {
      throw new KmsTransportError(
        "timeout",
        `${init.method ?? "GET"} ${path}: no answer from ${ctx.node.url} within ${ctx.timeoutMs} ms`,
        ctx.node.url,
        { cause: e },
      );
    }
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new KmsTransportError(
      "network",
      `${init.method ?? "GET"} ${path}: cannot reach ${ctx.node.url} (${detail})`,
      ctx.node.url,
      { cause: e },
    );
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
  if (status === 409) return new KmsConflictError(status, code, message, node);
  return new KmsRequestError(status, code, message, node);
}

/**
 * Performs one signed call and returns the decrypted inner JSON. Throws KmsRequestError (non-2xx),
 * KmsTransportError (unreachable, timeout) or KmsResponseVerificationError (bad proof in a 2xx).
 */
export async function signedRequest(ctx: SignedRequestContext, request: SignedRequest): Promise<unknown> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  const send: SendRequest = async (wire) => {
    const { res, text } = await exchange(ctx, signal, wire.path, requestInit(wire));
    return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text };
  };
  try {
    return await signedCall(
      {
        channel: APP_CHANNEL,
        identity: ctx.tee,
        ownWallet: ctx.appWallet,
        recipient: ctx.node,
        send,
        label: ctx.label ?? DEFAULT_ENVELOPE_LABEL,
        nowSeconds: ctx.nowSeconds,
      },
      request,
    );
  } catch (e) {
    if (e instanceof ChannelStatusError) throw statusErrorOf(e, ctx.node, request);
    if (e instanceof ChannelReplyError) {
      const { url } = ctx.node;
      const cause = e.cause === undefined ? undefined : { cause: e.cause };
      throw new KmsResponseVerificationError(`response from ${url} rejected: ${e.message}`, url, cause);
    }
    throw e;
  }
}

/**
 * A non-2xx answer as a typed error. A 404 to a KV lookup is "absent" (KmsNotFoundError) only with
 * the node's signature over our request and the key; without it anyone on the path could have
 * written it, so it is a verification failure, not an answer.
 */
function statusErrorOf(
  e: ChannelStatusError,
  node: KmsNodeInfo,
  request: SignedRequest,
): KmsRequestError | KmsResponseVerificationError {
  const error = requestErrorOf(e.status, e.text, node.url);
  if (e.status !== 404 || !request.lookup || e.requestSignature === undefined) return error;
  const question = { requestSignature: e.requestSignature, nodeWallet: node.wallet, ...request.lookup };
  if (provesNotFound(question, e.header(NOT_FOUND_SIGNATURE_HEADER))) {
    return new KmsNotFoundError(404, error.code, error.message, node.url);
  }
  return new KmsResponseVerificationError(
    `404 from ${node.url} without a valid ${NOT_FOUND_SIGNATURE_HEADER}: the key's absence is not proven`,
    node.url,
  );
}

// Only the fields the request has, so a GET reaches fetch exactly as `{ method: "GET" }`.
function requestInit(wire: WireRequest): RequestInit {
  const init: RequestInit = { method: wire.method };
  if (wire.headers) init.headers = wire.headers;
  if (wire.body !== undefined) init.body = wire.body;
  return init;
}

/** An unauthenticated GET (`/kms/ca`, `/status`): the answer is only as good as the node that sent it. */
export async function publicGet(ctx: ExchangeContext, path: string): Promise<{ contentType: string; text: string }> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  const { res, text } = await exchange(ctx, signal, path, { method: "GET" });
  if (!res.ok) throw requestErrorOf(res.status, text, ctx.node.url);
  return { contentType: res.headers.get("content-type") ?? "", text };
}
