// The caller's half of the signed channel (PROTOCOL.md §2–5), for apps calling a node and for nodes
// calling a peer's /sync (the variant is a protocol/channel.ts ChannelVariant):
//   GET /nonce → sign the variant's request string over (nonce, recipient wallet, now) → seal the
//   body to the recipient's on-chain teePubkey → send → require the response signature, made over
//   our request signature, to recover to the recipient's on-chain wallet → require the reply envelope
//   to come from the recipient's on-chain teePubkey → decrypt (under the request's label) → parse →
//   require the sealed JSON to echo our request signature (protocol/reply-binding.ts).
// The two reply checks are what stop a stranger at the recipient's URL (or on the path) from
// answering in its name; both compare against the chain, never against anything the recipient says.
// The echo stops the recipient's genuine answer to another of our requests from passing for this one.
// Transport stays with the caller: it passes a `send` function (the SDK's injectable fetch, the peer
// client's guarded undici Agent, the bench's Pool) with its own timeouts and transport errors, and
// maps ChannelStatusError / ChannelReplyError to its own error types.
import { bytesToHex, compareBytes } from "../crypto/bytes.js";
import { parseEnvelope, type EnvelopeLabel, type ParsedEnvelope } from "../crypto/envelope.js";
import type { ChannelVariant } from "./channel.js";
import { sealJson, type EnclaveIdentity } from "./identity.js";
import { bindBodyToNonce, REQUEST_SIGNATURE_FIELD, takeRequestEcho } from "./reply-binding.js";

export type CallMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What goes on the wire; `send` adds nothing but transport concerns (and, for /sync, the HMAC). */
export interface WireRequest {
  method: CallMethod;
  /** Path below the recipient's base URL, starting with `/` (already URL-encoded). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface WireReply {
  status: number;
  /** A response header by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  text: string;
}

export type SendRequest = (request: WireRequest) => Promise<WireReply>;

/** `WireReply.header` over a Node-style header record, where a repeated header is an array: none of ours is. */
export function recordHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Who we call, as the chain registers it. */
export interface ChannelRecipient {
  /** Lower-case wallet. */
  wallet: string;
  /** teePubkey as the 97-byte SEC1 point (what parseEnvelope yields, so byte equality is point equality). */
  teePubkey: Uint8Array;
}

export interface SignedCallOptions {
  channel: ChannelVariant;
  identity: Pick<EnclaveIdentity, "signMessage" | "encryptTo" | "decryptFrom">;
  /** Our own lower-case wallet, sent in the variant's wallet header. */
  ownWallet: string;
  recipient: ChannelRecipient;
  send: SendRequest;
  /**
   * HKDF label of a request envelope; the reply must come under the same one (PROTOCOL.md §5).
   * Undefined: the identity's own label, and the reply's label is not checked.
   */
  label?: EnvelopeLabel | undefined;
  nowSeconds?: (() => number) | undefined;
}

export interface CallRequest {
  method: CallMethod;
  path: string;
  /** Inner JSON, sealed in an envelope for every method but GET (absent: `{}`); a GET sends no body. */
  body?: unknown;
}

/**
 * A non-2xx answer, to the nonce request or to the call. Error bodies are plaintext `{code, message}`
 * and unsigned, so nothing in one is proven; a caller that can check a signed error (a proven 404,
 * protocol/reply-binding.ts) reads it from `header`, over `requestSignature`.
 */
export class ChannelStatusError extends Error {
  override name = "ChannelStatusError";
  readonly status: number;
  readonly text: string;
  /** A response header by lower-case name. */
  readonly header: WireReply["header"];

  constructor(
    readonly step: "nonce" | "call",
    reply: WireReply,
    request: WireRequest,
    /** The PoP signature the call carried (undefined for the nonce request). */
    readonly requestSignature?: string,
  ) {
    super(`${request.method} ${request.path}: ${reply.status} ${reply.text.slice(0, 200)}`);
    this.status = reply.status;
    this.text = reply.text;
    this.header = reply.header;
  }
}

/** Which check a 2xx answer failed. */
export type ReplyRejection =
  | "bad_nonce"
  | "unsigned"
  | "wrong_signer"
  | "not_envelope"
  | "wrong_sender"
  | "wrong_label"
  | "undecryptable"
  | "not_json"
  | "unbound";

/** A 2xx answer that does not prove it came from the recipient, or cannot be read. */
export class ChannelReplyError extends Error {
  override name = "ChannelReplyError";

  constructor(
    readonly reason: ReplyRejection,
    /** HTTP status of the rejected answer. */
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const unixSeconds = () => Math.floor(Date.now() / 1000);

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** One signed call; resolves with the recipient's decrypted inner JSON. */
export async function signedCall(options: SignedCallOptions, request: CallRequest): Promise<unknown> {
  const nonce = await fetchNonce(options.send, options.channel.noncePath);
  const ts = String((options.nowSeconds ?? unixSeconds)());
  const { channel, recipient } = options;
  const signature = await options.identity.signMessage(channel.authMessage(nonce, recipient.wallet, ts));

  const names = channel.popHeaders;
  const headers: Record<string, string> = {
    [names.signature]: signature,
    [names.nonce]: nonce,
    [names.timestamp]: ts,
    [names.wallet]: options.ownWallet,
  };
  const wire: WireRequest = { method: request.method, path: request.path, headers };
  if (request.method !== "GET") {
    const envelope = await sealJson(
      options.identity,
      recipient.teePubkey,
      channel.kind === "app" ? bindBodyToNonce(request.body ?? {}, nonce) : (request.body ?? {}),
      options.label,
    );
    headers["content-type"] = "application/json";
    wire.body = JSON.stringify(envelope);
  }

  const reply = await options.send(wire);
  if (!isSuccess(reply.status)) throw new ChannelStatusError("call", reply, wire, signature);
  // A GET carried no envelope, so the recipient chose the reply's label; only a body's label binds it.
  const boundLabel = wire.body === undefined ? undefined : options.label;
  return openReply(options, signature, boundLabel, reply);
}

/** GET /nonce: a non-empty string without ':' (it goes into a ':'-separated signed string). */
async function fetchNonce(send: SendRequest, path: string): Promise<string> {
  const request: WireRequest = { method: "GET", path };
  const reply = await send(request);
  if (!isSuccess(reply.status)) throw new ChannelStatusError("nonce", reply, request);
  let nonce: unknown;
  try {
    nonce = (JSON.parse(reply.text) as { nonce?: unknown }).nonce;
  } catch {
    nonce = undefined;
  }
  if (typeof nonce !== "string" || nonce.length === 0 || nonce.includes(":")) {
    throw new ChannelReplyError("bad_nonce", reply.status, "/nonce did not return a usable nonce");
  }
  return nonce;
}

/** Checks and opens a 2xx reply; every failure is a ChannelReplyError. */
async function openReply(
  options: SignedCallOptions,
  requestSignature: string,
  label: EnvelopeLabel | undefined,
  reply: WireReply,
): Promise<unknown> {
  const { channel, recipient } = options;
  const who = channel.recipientName;
  const { status } = reply;

  const responseSignature = reply.header(channel.responseSignatureHeader);
  if (!responseSignature) throw rejected("unsigned", status, `missing ${channel.responseSignatureHeader}`);
  try {
    channel.verifyResponse(requestSignature, recipient.wallet, responseSignature);
  } catch (e) {
    throw rejected("wrong_signer", status, `response signature is not from the ${who}'s on-chain wallet`, e);
  }

  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelope(JSON.parse(reply.text));
  } catch (e) {
    throw rejected("not_envelope", status, `body is not an envelope (${(e as Error).message})`, e);
  }
  if (compareBytes(envelope.senderPublicKey, recipient.teePubkey) !== 0) {
    const sender = bytesToHex(envelope.senderPublicKey).slice(0, 16);
    throw rejected("wrong_sender", status, `envelope sender ${sender}… is not the ${who}'s on-chain teePubkey`);
  }
  let opened;
  try {
    opened = await options.identity.decryptFrom(envelope);
  } catch (e) {
    throw rejected("undecryptable", status, "envelope does not decrypt", e);
  }
  // An identity that cannot name the label (an enclave runtime) opens only its own anyway.
  if (label !== undefined && opened.label !== undefined && opened.label !== label) {
    throw rejected("wrong_label", status, `reply sealed under ${opened.label}, request under ${label}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(strictUtf8.decode(opened.plaintext));
  } catch (e) {
    throw rejected("not_json", status, "decrypted payload is not JSON", e);
  }
  const echo = takeRequestEcho(payload, requestSignature);
  if (echo === "other_request" || (echo === "absent" && channel.requestEcho === "required")) {
    const what = echo === "absent" ? "does not name the request it answers" : "answers another request";
    throw rejected("unbound", status, `sealed reply ${what} (${REQUEST_SIGNATURE_FIELD})`);
  }
  return payload;
}

function rejected(reason: ReplyRejection, status: number, message: string, cause?: unknown): ChannelReplyError {
  return new ChannelReplyError(reason, status, message, cause === undefined ? undefined : { cause });
}
