// IN_ENCLAVE=true: the node's wallet, randomness, envelope and transaction signing all go through
// Odyn's HTTP API (our Odyn simulator here), and the dev shortcuts are gone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOdynSimulator, type OdynSimulator } from "../../../scripts/odyn-simulator.js";
import { masterSecretHashOf } from "../../../enclave/cluster/master-secret.js";
import {
  KmsHarness,
  getStatus,
  isServing,
  waitFor,
  type RunningNode,
  type TestApp,
} from "../../support/kms-harness.js";
import { appRequest, verifyResponseSignature, type NodeTarget } from "../../support/app-request.js";

let harness: KmsHarness;
let odyn: OdynSimulator;
let kms: RunningNode;
let target: NodeTarget;
let app: TestApp;

beforeAll(async () => {
  harness = await KmsHarness.start();
  const seed = "enclave-node";
  odyn = await startOdynSimulator({ seed });
  kms = await harness.startNode({ seed, env: { IN_ENCLAVE: "true", ODYN_URL: odyn.url } });
  target = { url: kms.url, wallet: kms.wallet, teePublicKey: kms.node.teePublicKey };
  app = await harness.registerApp();
});

afterAll(async () => {
  await harness?.stop();
  await odyn?.stop();
});

describe("enclave mode against the Odyn simulator", () => {
  it("takes its identity from Odyn", async () => {
    expect(kms.wallet).toBe(odyn.identity.wallet);
    const status = await getStatus(kms.url);
    expect(status.kms.mode).toBe("enclave");
    expect(status.node.tee_wallet).toBe(odyn.identity.wallet);
    expect(status.node.tee_pubkey).toBe(Buffer.from(odyn.identity.teePubkeySpki).toString("hex"));
  });

  it("bootstraps the master secret with Odyn randomness and an Odyn-signed transaction", async () => {
    await waitFor(() => isServing(kms.url), 20_000, "enclave node ready");
    expect(odyn.requestCount("/v1/random")).toBeGreaterThan(0);
    expect(odyn.requestCount("/v1/eth/sign-tx")).toBe(1);
    const onChain = await harness.chain.reader.masterSecretHash();
    expect((await getStatus(kms.url)).kms.master_secret.on_chain_hash).toBe(onChain);
    expect(onChain).not.toBe(masterSecretHashOf(new Uint8Array(32)));
  });

  it("serves derive through PoP with Odyn doing the envelope and the response signature", async () => {
    const res = await appRequest(target, app.tee, { method: "POST", path: "/kms/derive", body: { path: "k" } });
    expect(res.status).toBe(200);
    expect(Buffer.from(res.json.key, "base64")).toHaveLength(32);
    expect(verifyResponseSignature(res, kms.wallet)).toBe(true);
    expect(odyn.requestCount("/v1/encryption/decrypt")).toBeGreaterThan(0);
  });

  it("answers 504 when a request outlives REQUEST_TIMEOUT_MS (a stalled enclave runtime)", async () => {
    // Its own chain: enclave-mode nodes only talk to https peers on public addresses, so a second
    // node here could not fetch the first one's secret.
    const own = await KmsHarness.start();
    const slowOdyn = await startOdynSimulator({ seed: "enclave-slow" });
    try {
      const slow = await own.startNode({
        seed: "enclave-slow",
        env: { IN_ENCLAVE: "true", ODYN_URL: slowOdyn.url, REQUEST_TIMEOUT_MS: "300" },
      });
      await waitFor(() => isServing(slow.url), 20_000, "slow node ready");
      const caller = await own.registerApp();
      const slowTarget = { url: slow.url, wallet: slow.wallet, teePublicKey: slow.node.teePublicKey };
      slowOdyn.faults.delayNext(1, 1_000, { path: "/v1/encryption/decrypt" });
      const res = await appRequest(slowTarget, caller.tee, {
        method: "POST",
        path: "/kms/derive",
        body: { path: "k" },
      });
      expect(res.status).toBe(504);
      expect(res.raw).toMatchObject({ code: "timeout" });
    } finally {
      await own.stop();
      await slowOdyn.stop();
    }
  });

  it("refuses the x-tee-wallet dev shortcut", async () => {
    const res = await appRequest(target, app.tee, {
      method: "POST",
      path: "/kms/derive",
      body: { path: "k" },
      devWallet: app.wallet,
    });
    expect(res.status).toBe(403);
  });
});
