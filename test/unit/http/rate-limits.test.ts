// The node's whole HTTP app in process (createHttpApp, app.request()) with a fake registry: per-address
// limits keyed on the address the trusted proxy appended (PROTOCOL.md §2), and app and peer traffic
// counted apart — an app flood from an address leaves the nonces and /sync budget of peers intact.
import { describe, expect, it } from "vitest";
import { NoncePools } from "../../../enclave/auth/nonce-pools.js";
import { PopVerifier } from "../../../enclave/auth/pop-verifier.js";
import { RegistryAuthorizer, type RegistryView } from "../../../enclave/auth/registry-authorizer.js";
import {
  AppStatus,
  InstanceStatus,
  VersionStatus,
  type AppRecord,
  type InstanceRecord,
  type VersionRecord,
} from "../../../enclave/chain/types.js";
import type { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import { loadConfig } from "../../../enclave/config.js";
import { bytesToHex, utf8 } from "../../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../../enclave/crypto/canonical-json.js";
import { hmacSha256 } from "../../../enclave/crypto/hmac.js";
import { peerAuthMessage } from "../../../enclave/crypto/pop.js";
import { createHttpApp } from "../../../enclave/http/app.js";
import type { HttpDeps } from "../../../enclave/http/context.js";
import { NodeMetrics } from "../../../enclave/http/metrics.js";
import { ServerChannel } from "../../../enclave/http/server-channel.js";
import { createLogger } from "../../../enclave/log.js";
import { ServingKeys } from "../../../enclave/serving-keys.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const KMS_APP_ID = 1n;
const node = new SimulatedTee({ seed: "limits-node" });
const peer = new SimulatedTee({ seed: "limits-peer" });
const keys = new ServingKeys(new Uint8Array(32).fill(4));

/** A registry in which `peer` is an ACTIVE, zkVerified KMS instance and nobody else is registered. */
const registry: RegistryView = {
  async getInstanceByWallet(wallet) {
    const registered = wallet === peer.identity.wallet;
    return {
      id: registered ? 2n : 0n,
      appId: KMS_APP_ID,
      versionId: 1n,
      operator: peer.identity.wallet,
      instanceUrl: "http://peer",
      teePubkey: peer.identity.teePubkeySpki,
      teeWallet: peer.identity.wallet,
      zkVerified: true,
      status: InstanceStatus.ACTIVE,
      registeredAt: 1n,
    } as InstanceRecord;
  },
  getApp: async () => ({ id: KMS_APP_ID, status: AppStatus.ACTIVE }) as AppRecord,
  getVersion: async () => ({ id: 1n, status: VersionStatus.ENROLLED }) as VersionRecord,
};

function nodeApp(env: Record<string, string>) {
  const config = loadConfig({
    SIMULATION_MODE: "true",
    CHAIN_RPC_URL: "http://127.0.0.1:8545",
    NOVA_APP_REGISTRY_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    KMS_REGISTRY_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    KMS_APP_ID: KMS_APP_ID.toString(),
    ...env,
  });
  const nonces = new NoncePools({ ttlMs: 60_000, maxEntries: 1_000 });
  const handled: unknown[] = [];
  // Only what the routes under test use: no KV store, no views (their routes are not called here).
  const deps: Partial<HttpDeps> = {
    config,
    log: createLogger("silent"),
    metrics: new NodeMetrics(),
    channel: new ServerChannel(node, node.identity.wallet),
    nonces,
    pop: new PopVerifier({ nonces, ownWallet: node.identity.wallet, windowSeconds: 120 }),
    authorizer: new RegistryAuthorizer({ registry, ttlMs: 15_000 }),
    serving: {
      requireKeys: () => keys,
      requireStore: () => {
        throw new Error("no store in this test");
      },
    },
    sync: {
      handle: async (message: unknown) => {
        handled.push(message);
        return { type: "roots", roots: {} };
      },
    } as unknown as SyncHandler,
  };
  const app = createHttpApp(deps as HttpDeps);
  const get = async (path: string, forwardedFor?: string) => {
    const res = await app.request(path, { headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {} });
    return { status: res.status, body: (await res.json()) as { nonce?: string; code?: string } };
  };
  /** A /sync `roots` message from `peer`, signed over `nonce`, as the peer client sends it. */
  const sync = async (nonce: string, forwardedFor?: string) => {
    const ts = String(Math.floor(Date.now() / 1000));
    const inner = { type: "roots", sender_wallet: peer.identity.wallet, roots: {} };
    const body = JSON.stringify(await peer.encryptTo(node.identity.teePubkey, utf8(canonicalJson(inner))));
    const headers: Record<string, string> = {
      "x-kms-signature": await peer.signMessage(peerAuthMessage(nonce, node.identity.wallet, ts)),
      "x-kms-nonce": nonce,
      "x-kms-timestamp": ts,
      "x-sync-signature": bytesToHex(hmacSha256(keys.syncMacKey, utf8(body))),
      ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
    };
    const res = await app.request("/sync", { method: "POST", headers, body });
    return { status: res.status, text: await res.text() };
  };
  return { app, get, sync, handled };
}

async function flood(get: (path: string, xff?: string) => Promise<{ status: number }>, path: string, xff?: string) {
  for (let i = 0; i < 100; i++) if ((await get(path, xff)).status === 429) return;
  throw new Error("the flood was never limited");
}

describe("rate limits behind a trusted proxy", () => {
  const VICTIM = "198.51.100.7";
  const ATTACKER = "203.0.113.66";

  it("keys on the entry the proxy appended: a flood naming the victim leftmost does not lock the victim out", async () => {
    const { get } = nodeApp({ TRUST_PROXY: "true", NONCE_RATE_LIMIT_PER_MINUTE: "5" });
    // The attacker writes the victim's address into the header; the proxy appends the attacker's.
    await flood(get, "/nonce", `${VICTIM}, ${ATTACKER}`);
    // Rotating the client-written part does not escape the limit either.
    expect((await get("/nonce", `10.9.9.9, ${ATTACKER}`)).status).toBe(429);
    // The victim sends no header; the proxy appends its address.
    const victim = await get("/nonce", VICTIM);
    expect(victim.status).toBe(200);
    expect(victim.body.nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });

  it("with TRUST_PROXY_HOPS=2 keys on the second entry from the right (what the outer proxy saw)", async () => {
    const { get } = nodeApp({ TRUST_PROXY: "true", TRUST_PROXY_HOPS: "2", NONCE_RATE_LIMIT_PER_MINUTE: "5" });
    const INNER_PROXY_SAW = "10.0.0.2"; // the outer proxy's address, appended by the inner proxy
    await flood(get, "/nonce", `${VICTIM}, ${ATTACKER}, ${INNER_PROXY_SAW}`);
    expect((await get("/nonce", `${VICTIM}, ${INNER_PROXY_SAW}`)).status).toBe(200);
    // A header shorter than the hop count is not trusted: the socket address (here "local") counts.
    expect((await get("/nonce", INNER_PROXY_SAW)).status).toBe(200);
  });

  it("ignores X-Forwarded-For without TRUST_PROXY: every caller counts against the socket address", async () => {
    const { get } = nodeApp({ NONCE_RATE_LIMIT_PER_MINUTE: "5" });
    await flood(get, "/nonce", ATTACKER);
    expect((await get("/nonce", VICTIM)).status).toBe(429);
  });
});

describe("app and peer traffic counted apart", () => {
  it("an app-nonce flood from an address leaves that address's peer nonces and /sync working", async () => {
    const { get, sync, handled } = nodeApp({
      NONCE_RATE_LIMIT_PER_MINUTE: "5",
      PEER_NONCE_RATE_LIMIT_PER_MINUTE: "5",
      RATE_LIMIT_PER_MINUTE: "20",
    });
    await flood(get, "/nonce");
    // Past the per-address limit of all requests too, still as app traffic.
    await flood(get, "/health");
    const peerNonce = await get("/nonce?for=peer");
    expect(peerNonce.status).toBe(200);
    expect(await sync(peerNonce.body.nonce!)).toMatchObject({ status: 200 });
    expect(handled).toHaveLength(1);
  });

  it("a peer-nonce flood leaves the app nonces of that address alone", async () => {
    const { get } = nodeApp({ NONCE_RATE_LIMIT_PER_MINUTE: "5", PEER_NONCE_RATE_LIMIT_PER_MINUTE: "5" });
    await flood(get, "/nonce?for=peer");
    expect((await get("/nonce")).status).toBe(200);
  });

  it("a nonce redeems only on the channel of its pool", async () => {
    const { get, sync, handled } = nodeApp({});
    const appNonce = (await get("/nonce")).body.nonce!;
    const refused = await sync(appNonce);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toEqual({ code: "forbidden", message: "Invalid or reused nonce" });
    // An unknown `for` value is an app's request, as any plain GET /nonce.
    expect((await sync((await get("/nonce?for=other")).body.nonce!)).status).toBe(403);
    expect(handled).toEqual([]);
  });
});
