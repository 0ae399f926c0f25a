// Outbound calls to another KMS node's /sync (PROTOCOL.md §10), the node-to-node mirror of the
// app channel: peer PoP over the recipient's nonce, envelope to the recipient's ON-CHAIN key,
// HMAC of the exact body under the cluster sync key, and on the way back the responder's
// signature over our PoP signature and an envelope from its on-chain key. Anything that does
// not check out is an error; nothing from an unverified response is used.
import { Agent, request } from "undici";
import { bytesToHex, utf8 } from "../crypto/bytes.js";
import { parseEnvelope } from "../crypto/envelope.js";
import { hmacSha256 } from "../crypto/hmac.js";
import { peerAuthMessage, peerResponseMessage } from "../crypto/pop.js";
import { recoverPersonalMessageSigner } from "../crypto/secp256k1.js";
import type { PeerInfo } from "./peer-directory.js";
import { guardedLookup, type PeerUrlPolicy } from "./peer-policy.js";
import { sealJson, type Tee } from "../tee/tee.js";

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
}

export interface PeerCallOptions {
  /** Sync key for x-sync-signature; omitted only for master_secret_request (§7). */
  syncKey?: Uint8Array;
}

export class PeerClient {
  private readonly agent: Agent;

  constructor(private readonly options: PeerClientOptions) {
    this.agent = new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.policy) },
    });
  }

  /** Sends `inner` (gets `sender_wallet` added) to the peer's /sync and returns its verified inner reply. */
  async call(peer: PeerInfo, inner: Record<string, unknown>, callOptions: PeerCallOptions = {}): Promise<any> {
    const { tee, ownWallet } = this.options;
    const nonce = await this.fetchNonce(peer);
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = await tee.signMessage(peerAuthMessage(nonce, peer.wallet, ts));
    const envelope = await sealJson(tee, peer.teePublicKey, { ...inner, sender_wallet: ownWallet });
    const body = JSON.stringify(envelope);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-kms-signature": signature,
      "x-kms-nonce": nonce,
      "x-kms-timestamp": ts,
      "x-kms-wallet": ownWallet,
    };
    if (callOptions.syncKey) headers["x-sync-signature"] = bytesToHex(hmacSha256(callOptions.syncKey, utf8(body)));

    const res = await this.send(peer, "POST", "/sync", headers, body);
    if (res.status !== 200) throw new PeerCallError(peer.wallet, res.status, `peer answered ${res.status}: ${errorMessage(res.text)}`);
    const responseSignature = res.headers["x-kms-peer-signature"];
    if (typeof responseSignature !== "string") throw new PeerCallError(peer.wallet, 200, "response is not signed");
    let signer: string;
    try {
      signer = recoverPersonalMessageSigner(peerResponseMessage(signature, peer.wallet), responseSignature);
    } catch {
      throw new PeerCallError(peer.wallet, 200, "malformed response signature");
    }
    if (signer !== peer.wallet) throw new PeerCallError(peer.wallet, 200, "response signed by another wallet");
    let parsed;
    try {
      parsed = parseEnvelope(JSON.parse(res.text));
    } catch {
      throw new PeerCallError(peer.wallet, 200, "response is not an envelope");
    }
    if (bytesToHex(parsed.senderPublicKey) !== bytesToHex(peer.teePublicKey)) {
      throw new PeerCallError(peer.wallet, 200, "response sealed by a key other than the peer's registered one");
    }
    const { plaintext } = await tee.decryptFrom(parsed);
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  }

  /** GET /health with the call timeout; true when the peer answers 200. */
  async probe(peer: PeerInfo): Promise<boolean> {
    try {
      return (await this.send(peer, "GET", "/health")).status === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async fetchNonce(peer: PeerInfo): Promise<string> {
    const res = await this.send(peer, "GET", "/nonce");
    if (res.status !== 200) throw new PeerCallError(peer.wallet, res.status, `nonce request answered ${res.status}`);
    const nonce = (JSON.parse(res.text) as { nonce?: unknown }).nonce;
    if (typeof nonce !== "string") throw new PeerCallError(peer.wallet, 200, "nonce response malformed");
    return nonce;
  }

  private async send(peer: PeerInfo, method: "GET" | "POST", path: string, headers: Record<string, string> = {}, body?: string) {
    try {
      const res = await request(`${peer.url}${path}`, {
        method,
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } catch (e) {
      if (e instanceof PeerCallError) throw e;
      const code = (e as { code?: unknown }).code;
      throw new PeerCallError(peer.wallet, undefined, `peer unreachable: ${(e as Error).message}`, typeof code === "string" ? code : undefined);
    }
  }
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === "string" ? body.message.slice(0, 200) : "no message";
  } catch {
    return "no message";
  }
}
