// /sync's transport checks in process (app.request()): each refusal happens before the cluster's
// handler sees anything, and a message that passes is answered sealed and signed for the peer.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier } from "../../../enclave/auth/pop-verifier.js";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import type { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import { bytesToHex, utf8 } from "../../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../../enclave/crypto/canonical-json.js";
import { parseEnvelope } from "../../../enclave/crypto/envelope.js";
import { hmacSha256 } from "../../../enclave/crypto/hmac.js";
import { peerAuthMessage, verifyPeerResponse } from "../../../enclave/crypto/pop.js";
import { forbidden } from "../../../enclave/errors.js";
import type { RootEnv } from "../../../enclave/http/context.js";
import { handleError } from "../../../enclave/http/middleware/errors.js";
import { syncRoutes } from "../../../enclave/http/routes/sync.js";
import { ServerChannel } from "../../../enclave/http/server-channel.js";
import { createLogger } from "../../../enclave/log.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const KMS_APP_ID = 5n;
const node = new SimulatedTee({ seed: "sync-node" });
const peer = new SimulatedTee({ seed: "sync-peer" });
const other = new SimulatedTee({ seed: "sync-other-peer" });
const syncKey = new Uint8Array(32).fill(3);

const member = (tee: SimulatedTee, appId = KMS_APP_ID): RegisteredCaller => ({
  wallet: tee.identity.wallet,
  instanceId: 2n,
  appId,
  versionId: 1n,
  versionStatus: 0,
  instanceUrl: "http://peer",
  teePublicKey: tee.identity.teePubkey,
});

function server(registered: Record<string, RegisteredCaller>) {
  const nonces = new NonceStore({ ttlMs: 60_000, maxEntries: 100 });
  const handled: unknown[] = [];
  const handler = {
    handle: async (message: unknown) => {
      handled.push(message);
      return { type: "roots", roots: {} };
    },
  } as unknown as SyncHandler;
  const root = new Hono<RootEnv>();
  root.onError(handleError(createLogger("silent")));
  root.route(
    "/",
    syncRoutes({
      channel: new ServerChannel(node, node.identity.wallet),
      pop: new PopVerifier({ nonces, ownWallet: node.identity.wallet, windowSeconds: 120 }),
      authorizer: {
        authorize: async (wallet) => {
          const found = registered[wallet];
          if (!found) throw forbidden("Instance not found");
          return found;
        },
      },
      kmsAppId: KMS_APP_ID,
      syncMacKey: () => syncKey,
      handler,
    }),
  );
  return { root, nonces, handled };
}

async function send(
  s: ReturnType<typeof server>,
  inner: Record<string, unknown>,
  options: { signer?: SimulatedTee; mac?: Uint8Array | null } = {},
) {
  const signer = options.signer ?? peer;
  const nonce = s.nonces.issue();
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = await signer.signMessage(peerAuthMessage(nonce, node.identity.wallet, ts));
  const body = JSON.stringify(await signer.encryptTo(node.identity.teePubkey, utf8(canonicalJson(inner))));
  const headers: Record<string, string> = { "x-kms-signature": signature, "x-kms-nonce": nonce, "x-kms-timestamp": ts };
  const mac = options.mac === undefined ? syncKey : options.mac;
  if (mac) headers["x-sync-signature"] = bytesToHex(hmacSha256(mac, utf8(body)));
  const res = await s.root.request("/sync", { method: "POST", headers, body });
  return { res, signature, text: await res.text() };
}

const roots = (sender: SimulatedTee) => ({ type: "roots", sender_wallet: sender.identity.wallet, roots: {} });

describe("/sync transport checks (in process)", () => {
  it("hands a well-formed message to the handler and answers sealed and signed for the peer", async () => {
    const s = server({ [peer.identity.wallet]: member(peer) });
    const { res, signature, text } = await send(s, roots(peer));
    expect(res.status).toBe(200);
    expect(s.handled).toHaveLength(1);
    const responseSignature = res.headers.get("x-kms-peer-signature")!;
    expect(
      verifyPeerResponse({ kmsSignature: signature, responderWallet: node.identity.wallet, responseSignature }),
    ).toBe(node.identity.wallet);
    const opened = await peer.decryptFrom(parseEnvelope(JSON.parse(text)));
    const reply = { type: "roots", roots: {}, request_signature: signature };
    expect(JSON.parse(new TextDecoder().decode(opened.plaintext))).toEqual(reply);
  });

  it.each([
    ["sender_wallet naming another node than the PoP signer", { inner: "other" }, /sender_wallet does not match/],
    ["a missing sync signature", { mac: null }, /Missing sync signature/],
    ["a sync signature under another key", { mac: new Uint8Array(32).fill(9) }, /Invalid sync signature/],
    ["a registered instance of another app", { appId: 6n }, /Not a KMS node/],
  ] as const)("refuses %s with 403 and hands nothing on", async (_name, variant, message) => {
    const appId = "appId" in variant ? variant.appId : KMS_APP_ID;
    const s = server({ [peer.identity.wallet]: member(peer, appId), [other.identity.wallet]: member(other) });
    const inner = "inner" in variant ? roots(other) : roots(peer);
    const { res, text } = await send(s, inner, "mac" in variant ? { mac: variant.mac } : {});
    expect(res.status).toBe(403);
    expect(JSON.parse(text).message).toMatch(message);
    expect(s.handled).toEqual([]);
  });
});
