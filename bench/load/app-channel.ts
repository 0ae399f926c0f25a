// The app side of one authenticated call (PROTOCOL.md §2–5), in two interchangeable forms:
//   direct  the shared channel (enclave/protocol/signed-call.ts, app variant) straight over an undici
//           Pool: GET /nonce, PoP signature, envelope sealed to the node's on-chain key, response
//           signature and envelope sender checked against the on-chain values, body decrypted.
//           Lean on purpose: on 2 cores every client microsecond is taken from the node.
//   sdk     client/signed-request.ts over the SDK's default transport (what a Nova app runs).
// Both reject anything the protocol says a client must reject, so an error is counted, not hidden.
import { Pool } from "undici";
import { undiciFetch } from "../../client/undici-fetch.js";
import { hexToBytes } from "../../enclave/crypto/bytes.js";
import { APP_CHANNEL } from "../../enclave/protocol/channel.js";
import {
  recordHeader,
  signedCall,
  type SendRequest,
  type SignedCallOptions,
} from "../../enclave/protocol/signed-call.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { signedRequest } from "../../client/signed-request.js";
import type { KmsNodeInfo } from "../../client/discovery.js";
import type { LoadTarget } from "./kms-node.js";

export type ClientMode = "direct" | "sdk";
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface AppChannel {
  /** One authenticated call; resolves with the decrypted inner JSON, throws on any failure. */
  call(method: Method, path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export async function openAppChannel(target: LoadTarget, connections: number, mode: ClientMode): Promise<AppChannel> {
  const tee = new SimulatedTee({ seed: target.appSeed });
  const appWallet = (await tee.address()).toLowerCase();
  const nodeKey = hexToBytes(target.nodeTeePubkeyHex);
  return mode === "sdk"
    ? sdkChannel(target, tee, appWallet, nodeKey)
    : directChannel(target, tee, appWallet, nodeKey, connections);
}

function directChannel(
  target: LoadTarget,
  tee: SimulatedTee,
  appWallet: string,
  nodeKey: Uint8Array,
  connections: number,
): AppChannel {
  const pool = new Pool(target.url, { connections, pipelining: 1 });
  const send: SendRequest = async (wire) => {
    const r = await pool.request({ path: wire.path, method: wire.method, headers: wire.headers, body: wire.body });
    const text = await r.body.text();
    return { status: r.statusCode, header: (name) => recordHeader(r.headers, name), text };
  };
  // Built once per channel: a call allocates only what the protocol needs per request.
  const options: SignedCallOptions = {
    channel: APP_CHANNEL,
    identity: tee,
    ownWallet: appWallet,
    recipient: { wallet: target.nodeWallet, teePubkey: nodeKey },
    send,
  };
  return { call: (method, path, body) => signedCall(options, { method, path, body }), close: () => pool.close() };
}

function sdkChannel(target: LoadTarget, tee: SimulatedTee, appWallet: string, nodeKey: Uint8Array): AppChannel {
  // The SDK's own default transport (client/undici-fetch.ts), so the bench measures what apps run.
  const node: KmsNodeInfo = {
    url: target.url,
    wallet: target.nodeWallet,
    teePubkey: nodeKey,
    instanceId: 0n,
    versionId: 0n,
  };
  return {
    call: (method, path, body) =>
      signedRequest({ fetch: undiciFetch, tee, appWallet, node, timeoutMs: 10_000 }, { method, path, body }),
    close: async () => {},
  };
}
