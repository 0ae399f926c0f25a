// One real node on a real anvil chain: readiness, derive, and every rejection of PROTOCOL §3–5.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToBase64 } from "../../../enclave/crypto/bytes.js";
import { deriveAppKey } from "../../../enclave/crypto/kdf.js";
import { hexToBytes } from "../../../enclave/crypto/bytes.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import { AppStatus, InstanceStatus, VersionStatus } from "../../../enclave/chain/types.js";
import {
  KmsHarness,
  getJson,
  getStatus,
  isServing,
  waitFor,
  type RunningNode,
  type TestApp,
} from "../../support/kms-harness.js";
import { appRequest, fetchNonce, verifyResponseSignature, type NodeTarget } from "../../support/app-request.js";

let harness: KmsHarness;
let kms: RunningNode;
let target: NodeTarget;
let app: TestApp;

const derive = (body: unknown, extra: Partial<Parameters<typeof appRequest>[2]> = {}, caller = app) =>
  appRequest(target, caller.tee, { method: "POST", path: "/kms/derive", body, ...extra });

beforeAll(async () => {
  harness = await KmsHarness.start();
  kms = await harness.startNode({ env: { MASTER_SECRET_HEX: vectors.master_secret_hex, AUTH_CACHE_TTL_SECONDS: "1" } });
  target = { url: kms.url, wallet: kms.wallet, teePublicKey: kms.node.teePublicKey };
  app = await harness.registerApp();
  await waitFor(() => isServing(kms.url), 20_000, "node ready");
});

afterAll(async () => {
  await harness?.stop();
});

describe("node readiness", () => {
  it("answers /health, /status and /nonce, and sets the master secret hash on chain", async () => {
    expect(await getJson(`${kms.url}/health`)).toEqual({ status: "healthy" });
    const status = await getStatus(kms.url);
    expect(status.node.tee_wallet).toBe(kms.wallet);
    expect(status.kms.master_secret.on_chain_hash).toBe(`0x${vectors.master_secret_hash_keccak256}`);
    expect(await harness.chain.reader.masterSecretHash()).toBe(`0x${vectors.master_secret_hash_keccak256}`);
    expect(Buffer.from(await fetchNonce(kms.url), "base64")).toHaveLength(16);
  });

  it("an unregistered node starts, explains why it is unavailable, and becomes ready once registered", async () => {
    const late = await harness.startNode({ register: false, env: { MASTER_SECRET_HEX: vectors.master_secret_hex } });
    // Its first registration check takes one chain read; until then the reason says so.
    const before = await waitFor(
      async () => {
        const status = await getStatus(late.url);
        return /not registered/.test(status.kms.reason) ? status : undefined;
      },
      10_000,
      "unregistered reason",
    );
    expect(before.node.service_available).toBe(false);
    expect(before.node.is_operator).toBe(false);
    const refused = await appRequest(
      { url: late.url, wallet: late.wallet, teePublicKey: late.node.teePublicKey },
      app.tee,
      {
        method: "POST",
        path: "/kms/derive",
        body: { path: "x" },
      },
    );
    expect(refused.status).toBe(503);
    await harness.registerNode(late.seed, late.url);
    await waitFor(() => isServing(late.url), 10_000, "late node ready");
    await late.stop();
  });
});

describe("POST /kms/derive", () => {
  it("returns the vector formula's key for the caller's app, sealed and signed", async () => {
    const res = await derive({ path: "wallet/root", context: "session-a", length: 32 });
    expect(res.status).toBe(200);
    const expected = deriveAppKey(hexToBytes(vectors.master_secret_hex), app.appId, "wallet/root", "session-a", 32);
    expect(res.json).toEqual({
      app_id: Number(app.appId),
      path: "wallet/root",
      key: bytesToBase64(expected),
      length: 32,
      request_signature: res.sentSignature,
    });
    expect(verifyResponseSignature(res, kms.wallet)).toBe(true);
    const raw = res.raw as Record<string, string>;
    expect(Object.keys(raw).sort()).toEqual(["encrypted_data", "nonce", "sender_tee_pubkey"]);
  });

  it("isolates apps: another app gets another key for the same path", async () => {
    const other = await harness.registerApp();
    const a = await derive({ path: "p" });
    const b = await derive({ path: "p" }, {}, other);
    expect(a.json.key).not.toBe(b.json.key);
    expect(b.json.app_id).toBe(Number(other.appId));
  });

  it.each([
    [{ path: "" }, /path/],
    [{ path: "p", length: 0 }, /length/],
    [{ path: "p", length: 1025 }, /length/],
    [{ path: 5 }, /path/],
    [{}, /path/],
  ])("rejects %o with 400", async (body, message) => {
    const res = await derive(body);
    expect(res.status).toBe(400);
    expect((res.raw as { message: string }).message).toMatch(message);
  });

  it("rejects a plaintext JSON body with 400", async () => {
    const res = await derive(undefined, { rawBody: JSON.stringify({ path: "p" }) });
    expect(res.status).toBe(400);
    expect(res.raw).toEqual({
      code: "not_encrypted",
      message: expect.stringMatching(/^Request must be E2E encrypted/),
    });
  });

  it("rejects an envelope from a key other than the caller's on-chain teePubkey with 403", async () => {
    const res = await derive({ path: "p" }, { envelopeSender: new SimulatedTee({ seed: "intruder" }) });
    expect(res.status).toBe(403);
  });
});

describe("proof of possession (PROTOCOL §3) → 403", () => {
  it.each(["signature", "nonce", "timestamp"] as const)("missing x-app-%s", async (header) => {
    const res = await derive({ path: "p" }, { omit: [header] });
    expect(res.status).toBe(403);
  });

  it("stale and future timestamps", async () => {
    // A few seconds past the 120 s window: the node's clock moves on while the test runs, and one
    // second over the edge made the future case pass as in-window whenever a second ticked meanwhile.
    const now = Math.floor(Date.now() / 1000);
    expect((await derive({ path: "p" }, { timestamp: now - 125 })).status).toBe(403);
    expect((await derive({ path: "p" }, { timestamp: now + 125 })).status).toBe(403);
  });

  it("a reused nonce and an unknown nonce", async () => {
    const nonce = await fetchNonce(kms.url);
    expect((await derive({ path: "p" }, { nonce })).status).toBe(200);
    expect((await derive({ path: "p" }, { nonce })).status).toBe(403);
    expect((await derive({ path: "p" }, { nonce: "AAAAAAAAAAAAAAAAAAAAAA==" })).status).toBe(403);
  });

  it("a signature naming another recipient node", async () => {
    const res = await derive({ path: "p" }, { recipientWallet: "0x000000000000000000000000000000000000dead" });
    expect(res.status).toBe(403);
  });

  it("a signature by another key, and a wallet header that is not the signer", async () => {
    const stranger = new SimulatedTee({ seed: "stranger" });
    expect((await derive({ path: "p" }, { signer: stranger })).status).toBe(403);
    expect((await derive({ path: "p" }, { walletHeader: await stranger.address() })).status).toBe(403);
    expect((await derive({ path: "p" }, { walletHeader: null })).status).toBe(200);
  });

  it("the dev shortcut x-tee-wallet works outside an enclave (registry and envelope still apply)", async () => {
    const ok = await derive({ path: "p" }, { devWallet: app.wallet });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-kms-response-signature")).toBeNull();
    const unregistered = await derive({ path: "p" }, { devWallet: "0x000000000000000000000000000000000000beef" });
    expect(unregistered.status).toBe(403);
  });
});

describe("authorization (PROTOCOL §4)", () => {
  const messageOf = (res: { raw: unknown }) => (res.raw as { message: string }).message;

  it("an unregistered wallet", async () => {
    const res = await derive({ path: "p" }, {}, { ...app, tee: new SimulatedTee({ seed: "nobody" }) });
    expect(res.status).toBe(403);
    expect(messageOf(res)).toBe("Instance not found");
  });

  it("an instance that is not zkVerified", async () => {
    const unverified = await harness.registerApp({ zkVerified: false });
    const res = await derive({ path: "p" }, {}, unverified);
    expect(res.status).toBe(403);
    expect(messageOf(res)).toBe("Instance not zkVerified");
  });

  it("stopped instance, inactive app, revoked version take effect within the cache TTL; deprecated is allowed", async () => {
    const admin = harness.chain.admin;
    const cases: Array<[(a: TestApp) => Promise<unknown>, string | null]> = [
      [(a) => admin.setInstanceStatus(a.instanceId, InstanceStatus.STOPPED), "Instance not active"],
      [(a) => admin.setAppStatus(a.appId, AppStatus.INACTIVE), "App not active"],
      [(a) => admin.setVersionStatus(a.appId, a.versionId, VersionStatus.REVOKED), "Version revoked"],
      [(a) => admin.setVersionStatus(a.appId, a.versionId, VersionStatus.DEPRECATED), null],
    ];
    for (const [change, message] of cases) {
      const subject = await harness.registerApp();
      expect((await derive({ path: "p" }, {}, subject)).status).toBe(200);
      await change(subject);
      if (message === null) {
        expect((await derive({ path: "p" }, {}, subject)).status).toBe(200);
        continue;
      }
      // AUTH_CACHE_TTL_SECONDS=1 for this node: the change must show within about a second.
      const res = await waitFor(
        async () => {
          const r = await derive({ path: "p" }, {}, subject);
          return r.status === 403 ? r : undefined;
        },
        5_000,
        `revocation: ${message}`,
      );
      expect(messageOf(res)).toBe(message);
    }
  });
});
