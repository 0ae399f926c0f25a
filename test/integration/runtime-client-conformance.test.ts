// What the Nova runtime's built-in KMS client (nova-enclave-capsule) and apps on the earlier
// enclaver runtime do, step by step, against real nodes on a real anvil chain (PROTOCOL.md §3, §5,
// §9). The client is test/support/runtime-kms-client.ts; each app's runtime is an Odyn simulator
// that, like a real runtime, seals and opens under one envelope label only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pLimit from "p-limit";
import { NovaKmsClient } from "../../client/nova-kms-client.js";
import { bytesToHex, hexToBytes } from "../../enclave/crypto/bytes.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL } from "../../enclave/crypto/envelope.js";
import { deriveAppKey } from "../../enclave/crypto/kdf.js";
import { startOdynSimulator, type OdynSimulator } from "../../scripts/odyn-simulator.js";
import { appRequest } from "../support/app-request.js";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../support/kms-harness.js";
import { RuntimeKmsClient, runtimeVerifiesSignature } from "../support/runtime-kms-client.js";

const SECRET = "5a".repeat(32);

let harness: KmsHarness;
let nodes: RunningNode[];
let capsuleApp: TestApp;
let enclaverApp: TestApp;
let capsuleRuntime: OdynSimulator;
let enclaverRuntime: OdynSimulator;

function runtimeClient(runtime: OdynSimulator, roundDelayMs = 150): RuntimeKmsClient {
  return new RuntimeKmsClient({
    runtimeUrl: runtime.url,
    registry: harness.chain.reader,
    kmsAppId: harness.chain.deployment.kmsAppId,
    roundDelayMs,
  });
}

const expectedKey = (app: TestApp, path: string, context = "", length = 32) =>
  Buffer.from(deriveAppKey(hexToBytes(SECRET), app.appId, path, context, length));

beforeAll(async () => {
  harness = await KmsHarness.start();
  nodes = [];
  // Default limits on purpose: the retry test below is about what they let through.
  for (let i = 0; i < 2; i++) nodes.push(await harness.startNode({ env: { MASTER_SECRET_HEX: SECRET } }));
  // The app's identity lives in its runtime: the simulator and the registration share the seed.
  const capsuleSeed = `capsule-app-${Date.now()}`;
  const enclaverSeed = `enclaver-app-${Date.now()}`;
  capsuleApp = await harness.registerApp({ seed: capsuleSeed });
  enclaverApp = await harness.registerApp({ seed: enclaverSeed });
  capsuleRuntime = await startOdynSimulator({ seed: capsuleSeed, envelopeLabel: CAPSULE_LABEL });
  enclaverRuntime = await startOdynSimulator({ seed: enclaverSeed, envelopeLabel: ENCLAVER_LABEL });
  for (const n of nodes) await waitFor(() => isServing(n.url), 30_000, `${n.url} ready`);
});

afterAll(async () => {
  await Promise.allSettled([capsuleRuntime?.stop(), enclaverRuntime?.stop()]);
  await harness?.stop();
});

describe("identity: what the runtime reads from /status", () => {
  it("node.tee_wallet and node.tee_pubkey equal the registry's wallet and teePubkey hex, string for string", async () => {
    const client = runtimeClient(capsuleRuntime);
    const candidates = await client.discover();
    expect(candidates.map((c) => c.wallet).sort()).toEqual(nodes.map((n) => n.wallet).sort());
    for (const candidate of candidates) {
      const identity = await client.identityOf(candidate);
      expect(identity.teePubkey).toMatch(/^[0-9a-f]{240}$/);
      expect(identity).toEqual({ wallet: candidate.wallet, teePubkey: candidate.teePubkey });
    }
  });
});

describe.each([
  ["capsule (current runtime)", () => capsuleRuntime, () => capsuleApp],
  ["enclaver (earlier runtime)", () => enclaverRuntime, () => enclaverApp],
])("an app on the %s runtime", (_name, runtime, app) => {
  it('derives the app\'s key through every node (context sent as "", length as a number)', async () => {
    const client = runtimeClient(runtime());
    expect(Buffer.from(await client.derive("wallet/root"))).toEqual(expectedKey(app(), "wallet/root"));
    expect(Buffer.from(await client.derive("disk", "vol-1", 48))).toEqual(expectedKey(app(), "disk", "vol-1", 48));
    for (const candidate of await client.discover()) {
      // One node at a time: the first candidate answers every call otherwise.
      const reply = await client.callNode(candidate, "POST", "/kms/derive", { path: "p", context: "", length: 32 });
      expect(Buffer.from(reply.key as string, "base64")).toEqual(expectedKey(app(), "p"));
    }
  });

  it("writes, reads (form-encoded keys), lists and deletes KV entries", async () => {
    const client = runtimeClient(runtime());
    const keys = ["a b", "dir/x+y", `sp ace/${Date.now()}`, "ünï cödé"];
    for (const [i, key] of keys.entries()) await client.kvPut(key, Buffer.from(`value-${i}`).toString("base64"));
    for (const [i, key] of keys.entries()) {
      expect(Buffer.from((await client.kvGet(key))!, "base64").toString()).toBe(`value-${i}`);
    }
    const listing = await client.call("GET", "/kms/data");
    expect(listing.keys).toEqual(expect.arrayContaining(keys));
    await client.kvDelete("a b");
    // The runtime client moves on to the next node after a 404, so until the delete has replicated
    // (one sync interval) another node may still answer with the value: that is its retry policy.
    await waitFor(async () => (await client.kvGet("a b")) === undefined, 15_000, "the delete to reach every node");
    expect(await client.kvGet("never written")).toBeUndefined();
  });
});

describe("the SDK sees the runtime's keys", () => {
  it('a key the runtime wrote as "a b" (sent as a+b) is the SDK\'s "a b" (sent as a%20b)', async () => {
    const client = runtimeClient(capsuleRuntime);
    await client.kvPut("shared key", Buffer.from("from the runtime").toString("base64"));
    const sdk = new NovaKmsClient({
      tee: capsuleApp.tee,
      registry: harness.chain.reader,
      kmsAppId: harness.chain.deployment.kmsAppId,
      allowHttp: true,
    });
    // The runtime wrote to its first candidate; whichever node the SDK asks has it within a sync interval.
    const entry = await waitFor(() => sdk.kv.get("shared key"), 15_000, "the runtime's key through the SDK");
    expect(Buffer.from(entry.value).toString()).toBe("from the runtime");
    await sdk.kv.put("literal+plus", "sdk");
    const value = await waitFor(() => client.kvGet("literal+plus"), 15_000, "the SDK's key through the runtime");
    expect(Buffer.from(value, "base64").toString()).toBe("sdk");
  });
});

describe("signatures and field forms the runtime depends on", () => {
  it("every response signature carries v ∈ {0, 1}, which the runtime's verifier (v ≤ 3) accepts", async () => {
    const node = { url: nodes[0]!.url, wallet: nodes[0]!.wallet, teePublicKey: nodes[0]!.node.teePublicKey };
    for (let i = 0; i < 6; i++) {
      const res = await appRequest(node, capsuleApp.tee, {
        method: "POST",
        path: "/kms/derive",
        body: { path: `v-${i}` },
      });
      expect(res.status).toBe(200);
      const signature = res.headers.get("x-kms-response-signature")!;
      expect(["00", "01"]).toContain(signature.slice(-2));
      const message = `NovaKMS:Response:${res.sentSignature}:${node.wallet}`;
      expect(await runtimeVerifiesSignature(signature, message, node.wallet)).toBe(true);
    }
    // The verifier itself refuses 27/28, as the runtime's does: that is what the node must avoid.
    const res = await appRequest(node, capsuleApp.tee, {
      method: "POST",
      path: "/kms/derive",
      body: { path: "legacy" },
    });
    const signature = res.headers.get("x-kms-response-signature")!;
    const legacy = signature.slice(0, -2) + (27 + Number.parseInt(signature.slice(-2), 16)).toString(16);
    expect(
      await runtimeVerifiesSignature(legacy, `NovaKMS:Response:${res.sentSignature}:${node.wallet}`, node.wallet),
    ).toBe(false);
  });

  it("derive accepts length as a decimal string and answers it as a number; other forms are 400", async () => {
    const node = { url: nodes[0]!.url, wallet: nodes[0]!.wallet, teePublicKey: nodes[0]!.node.teePublicKey };
    const derive = (length: unknown) =>
      appRequest(node, capsuleApp.tee, { method: "POST", path: "/kms/derive", body: { path: "len", length } });
    const ok = await derive("48");
    expect(ok.status).toBe(200);
    expect(ok.json.length).toBe(48);
    expect(Buffer.from(ok.json.key, "base64")).toEqual(expectedKey(capsuleApp, "len", "", 48));
    for (const bad of ["4.5", "-1", " 32", "0", "1025", "0x20", "", true, 4.5]) {
      expect((await derive(bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });

  it("a reply is sealed under the label of its request, and a GET under the caller's last label", async () => {
    const node = { url: nodes[1]!.url, wallet: nodes[1]!.wallet, teePublicKey: nodes[1]!.node.teePublicKey };
    const put = (label: typeof CAPSULE_LABEL | typeof ENCLAVER_LABEL) =>
      appRequest(node, enclaverApp.tee, {
        method: "PUT",
        path: "/kms/data",
        body: { key: "label", value: "AA==" },
        label,
      });
    const list = () => appRequest(node, enclaverApp.tee, { method: "GET", path: "/kms/data" });
    expect((await put(ENCLAVER_LABEL)).label).toBe(ENCLAVER_LABEL);
    expect((await list()).label).toBe(ENCLAVER_LABEL);
    expect((await put(CAPSULE_LABEL)).label).toBe(CAPSULE_LABEL);
    expect((await list()).label).toBe(CAPSULE_LABEL);
    // A caller the node has not heard a body from gets the current runtime's label.
    const fresh = await harness.registerApp();
    expect((await appRequest(node, fresh.tee, { method: "GET", path: "/kms/data" })).label).toBe(CAPSULE_LABEL);
  });
});

describe("the runtime's retries do not lock other apps out", () => {
  it("1,250 refused attempts (fresh nonce each, as the runtime retries) leave another app on the same address served", async () => {
    const refusedSeed = `refused-${Date.now()}`;
    await harness.registerApp({ seed: refusedSeed, zkVerified: false });
    const refusedRuntime = await startOdynSimulator({ seed: refusedSeed, envelopeLabel: CAPSULE_LABEL });
    try {
      const refused = runtimeClient(refusedRuntime, 0);
      const [first] = await refused.discover();
      const limit = pLimit(8);
      // More nonces from one address than the old per-address default (1,200 a minute) allowed.
      const outcomes = await Promise.all(
        Array.from({ length: 1_250 }, () =>
          limit(() =>
            refused.callNode(first!, "POST", "/kms/derive", { path: "x", context: "", length: 32 }).then(
              () => "served",
              (e: Error) => e.message,
            ),
          ),
        ),
      );
      expect(outcomes.filter((m) => !/^KMS HTTP 403/.test(m))).toEqual([]);
      const other = runtimeClient(capsuleRuntime);
      expect(Buffer.from(await other.derive("still-served"))).toEqual(expectedKey(capsuleApp, "still-served"));
    } finally {
      await refusedRuntime.stop();
    }
  });
});

// Keeps the helper honest: the registry hex the runtime compares against is lower-case SPKI.
it("registry teePubkey of a node is its SPKI (what /status must print)", async () => {
  const instance = await harness.chain.reader.getInstanceByWallet(nodes[0]!.wallet as `0x${string}`);
  expect(bytesToHex(instance.teePubkey)).toHaveLength(240);
});
