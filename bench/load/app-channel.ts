// The app side of one authenticated call (PROTOCOL.md §2–5), in two interchangeable forms:
//   direct  undici Pool.request + the same enclave/crypto functions the SDK uses: GET /nonce, PoP
//           signature, envelope sealed to the node's on-chain key, response signature recovered and
//           compared with the on-chain wallet, response envelope sender checked, body decrypted.
//           Lean on purpose: on 2 cores every client microsecond is taken from the node.
//   sdk     client/signed-request.ts over the SDK's default transport (what a Nova app runs).
// Both reject anything the protocol says a client must reject, so an error is counted, not hidden.
import { Pool } from "undici";
import { undiciFetch } from "../../client/undici-fetch.js";
import { compareBytes, hexToBytes, utf8 } from "../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../enclave/crypto/canonical-json.js";
import { parseEnvelope } from "../../enclave/crypto/envelope.js";
import { appAuthMessage, verifyAppResponse } from "../../enclave/crypto/pop.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { signedRequest, type FetchLike } from "../../client/signed-request.js";
import type { KmsNodeInfo } from "../../client/discovery.js";
import type { LoadTarget } from "./kms-node.js";

export type ClientMode = "direct" | "sdk";
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface AppChannel {
  /** One authenticated call; resolves with the decrypted inner JSON, throws on any failure. */
  call(method: Method, path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export async function openAppChannel(target: LoadTarget, connections: number, mode: ClientMode): Promise<AppChannel> {
  const tee = new SimulatedTee({ seed: target.appSeed });
  const appWallet = (await tee.address()).toLowerCase();
  const nodeKey = hexToBytes(target.nodeTeePubkeyHex);
  return mode === "sdk" ? sdkChannel(target, tee, appWallet, nodeKey) : directChannel(target, tee, appWallet, nodeKey, connections);
}

function directChannel(target: LoadTarget, tee: SimulatedTee, appWallet: string, nodeKey: Uint8Array, connections: number): AppChannel {
  const pool = new Pool(target.url, { connections, pipelining: 1 });
  const call = async (method: Method, path: string, body?: unknown): Promise<unknown> => {
    const n = await pool.request({ path: "/nonce", method: "GET" });
    const nonceText = await n.body.text();
    if (n.statusCode !== 200) throw new Error(`GET /nonce: ${n.statusCode} ${nonceText.slice(0, 200)}`);
    const nonce = (JSON.parse(nonceText) as { nonce: string }).nonce;
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = await tee.signMessage(appAuthMessage(nonce, target.nodeWallet, ts));
    const headers: Record<string, string> = {
      "x-app-signature": signature,
      "x-app-nonce": nonce,
      "x-app-timestamp": ts,
      "x-app-wallet": appWallet,
    };
    let payload: string | undefined;
    if (method !== "GET") {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(await tee.encryptTo(nodeKey, utf8(canonicalJson(body ?? {}))));
    }
    const r = await pool.request({ path, method, headers, body: payload });
    const text = await r.body.text();
    if (r.statusCode < 200 || r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 200)}`);
    const responseSignature = r.headers["x-kms-response-signature"];
    if (typeof responseSignature !== "string") throw new Error(`${method} ${path}: no x-kms-response-signature`);
    verifyAppResponse({ appSignature: signature, nodeWallet: target.nodeWallet, responseSignature });
    const envelope = parseEnvelope(JSON.parse(text));
    if (compareBytes(envelope.senderPublicKey, nodeKey) !== 0) throw new Error(`${method} ${path}: response envelope not from the node's on-chain key`);
    return JSON.parse(strictUtf8.decode((await tee.decryptFrom(envelope)).plaintext));
  };
  return { call, close: () => pool.close() };
}

function sdkChannel(target: LoadTarget, tee: SimulatedTee, appWallet: string, nodeKey: Uint8Array): AppChannel {
  // The SDK's own default transport (client/undici-fetch.ts), so the bench measures what apps run.
  const node: KmsNodeInfo = { url: target.url, wallet: target.nodeWallet, teePubkey: nodeKey, instanceId: 0n, versionId: 0n };
  return {
    call: (method, path, body) => signedRequest({ fetch: undiciFetch, tee, appWallet, node, timeoutMs: 10_000 }, { method, path, body }),
    close: async () => {},
  };
}
