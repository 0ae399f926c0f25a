// Outbound calls to another KMS node's /sync (PROTOCOL.md §10), the node-to-node variant of the
// signed channel (protocol/signed-call.ts): peer PoP over the recipient's nonce, envelope to the
// recipient's ON-CHAIN key, and on the way back the responder's signature over our PoP signature
// and an envelope from its on-chain key. This file adds what is the peer's own: the HMAC of the
// exact body under the cluster sync key, an undici Agent whose DNS lookup applies the peer URL
// policy, per-request timeouts, a byte bound on every answer (a registered peer is still not
// trusted with our memory), and PeerCallError. Nothing from an unverified response is used.
import { Agent, request } from "undici";
import { bytesToHex, utf8 } from "../crypto/bytes.js";
import { hmacSha256 } from "../crypto/hmac.js";
import { readBoundedText, ResponseTooLargeError } from "../protocol/bounded-body.js";
import { PEER_CHANNEL } from "../protocol/channel.js";
import {
  ChannelReplyError,
  ChannelStatusError,
  recordHeader,
  signedCall,
  type CallMethod,
  type SendRequest,
} from "../protocol/signed-call.js";
import type { PeerInfo } from "./peer-directory.js";
import { guardedLookup, type PeerUrlPolicy } from "./peer-policy.js";
import { syncReplies, type SyncMessageType, type SyncReply } from "./sync-messages.js";
import type { Tee } from "../tee/tee.js";

export class PeerCallError extends Error {
  override name = "PeerCallError";
  constructor(
    readonly peer: string,
    readonly status: number | undefined,
    message: string,
    /** The socket error code when the peer could not be reached (e.g. ECONNREFUSED). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface PeerClientOptions {
  tee: Tee;
  ownWallet: string;
  timeoutMs: number;
  policy: PeerUrlPolicy;
  /** Open connections kept per peer. */
  connections?: number;
  /**
   * Bytes read of any answer (the nonce's, the /sync reply's) at most: the node's SYNC_MAX_BODY_BYTES,
   * the bound its peers' requests live under, since replies are batched by the same sizes.
   */
  maxResponseBytes?: number;
}

/** SYNC_MAX_BODY_BYTES's default (enclave/config.ts), for clients built without a config. */
export const DEFAULT_PEER_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A /sync message as the caller writes it: its `type` and fields (`sender_wallet` is added by the client). */
export type OutgoingSyncMessage<T extends SyncMessageType> = { type: T } & Record<string, unknown>;

export interface PeerCallOptions {
  /** Sync key for x-sync-signature; omitted only for master_secret_request (§7). */
  syncKey?: Uint8Array;
}

export class PeerClient {
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: PeerClientOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_PEER_RESPONSE_BYTES;
    this.agent = new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.policy) },
    });
  }

  /**
   * Sends `inner` (gets `sender_wallet` added) to the peer's /sync and returns its verified inner
   * reply, parsed with the reply schema of the message type.
   */
  async call<T extends SyncMessageType>(
    peer: PeerInfo,
    inner: OutgoingSyncMessage<T>,
    callOptions: PeerCallOptions = {},
  ): Promise<SyncReply<T>> {
    const { tee, ownWallet } = this.options;
    const recipient = { wallet: peer.wallet, teePubkey: peer.teePublicKey };
    const send = this.sender(peer, callOptions.syncKey);
    let reply: unknown;
    try {
      reply = await signedCall(
        { channel: PEER_CHANNEL, identity: tee, ownWallet, recipient, send },
        { method: "POST", path: "/sync", body: { ...inner, sender_wallet: ownWallet } },
      );
    } catch (e) {
      throw peerCallErrorOf(peer, e);
    }
    const parsed = syncReplies[inner.type].safeParse(reply);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const detail = `${issue?.path.join(".") || "reply"}: ${issue?.message ?? "invalid"}`;
      throw new PeerCallError(peer.wallet, 200, `malformed reply to ${inner.type}: ${detail}`);
    }
    // Indexing by `inner.type` loses the link between T and the schema; the parse was by T's schema.
    return parsed.data as SyncReply<T>;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The channel's transport to `peer`: this client's Agent, and the body's HMAC when a sync key is given. */
  private sender(peer: PeerInfo, syncKey: Uint8Array | undefined): SendRequest {
    return async (wire) => {
      let headers = wire.headers;
      // The MAC covers the exact bytes sent: the sealed body as the channel serialized it.
      if (syncKey && wire.body !== undefined) {
        headers = { ...headers, "x-sync-signature": macHex(syncKey, wire.body) };
      }
      const res = await this.send(peer, wire.method, wire.path, headers, wire.body);
      return { status: res.status, header: (name) => recordHeader(res.headers, name), text: res.text };
    };
  }

  private async send(
    peer: PeerInfo,
    method: CallMethod,
    path: string,
    headers?: Record<string, string>,
    body?: string,
  ) {
    let status: number | undefined;
    try {
      const res = await request(`${peer.url}${path}`, {
        method,
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.statusCode;
      const length = recordHeader(res.headers, "content-length");
      return { status, headers: res.headers, text: await readBoundedText(res.body, this.maxResponseBytes, length) };
    } catch (e) {
      if (e instanceof PeerCallError) throw e;
      if (e instanceof ResponseTooLargeError) {
        throw new PeerCallError(
          peer.wallet,
          status,
          `${method} ${path}: peer answer exceeds ${e.limit} bytes; not read`,
        );
      }
      const code = (e as { code?: unknown }).code;
      throw new PeerCallError(
        peer.wallet,
        undefined,
        `peer unreachable: ${(e as Error).message}`,
        typeof code === "string" ? code : undefined,
      );
    }
  }
}

/** The channel's refusals as PeerCallErrors; transport errors already are PeerCallErrors. */
function peerCallErrorOf(peer: PeerInfo, e: unknown): unknown {
  if (e instanceof ChannelStatusError) {
    if (e.step === "nonce") return new PeerCallError(peer.wallet, e.status, `nonce request answered ${e.status}`);
    return new PeerCallError(peer.wallet, e.status, `peer answered ${e.status}: ${errorMessage(e.text)}`);
  }
  if (e instanceof ChannelReplyError) return new PeerCallError(peer.wallet, e.status, e.message);
  return e;
}

function macHex(syncKey: Uint8Array, body: string): string {
  return bytesToHex(hmacSha256(syncKey, utf8(body)));
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === "string" ? body.message.slice(0, 200) : "no message";
  } catch {
    return "no message";
  }
}
