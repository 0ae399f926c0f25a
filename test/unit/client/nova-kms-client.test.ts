// The SDK against real HTTP nodes that speak the protocol (fake-node.ts): request construction,
// the response checks (signature, envelope sender, request echo, proven 404), error typing and
// failover.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { NovaKmsClient, type NovaKmsClientOptions } from "../../../client/nova-kms-client.js";
import { KmsRequestError, KmsResponseVerificationError, KmsTransportError } from "../../../client/errors.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL } from "../../../enclave/crypto/envelope.js";
import { deriveAppKey } from "../../../enclave/crypto/kdf.js";
import { appAuthMessage, verifyPop } from "../../../enclave/crypto/pop.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import { peakRssGrowth, startFloodServer } from "../../support/flood-server.js";
import {
  FAKE_CA_PEM,
  FAKE_KMS_REGISTRY,
  TEST_MASTER_SECRET,
  instanceOf,
  memoryRegistry,
  startFakeNode,
  type FakeNode,
} from "./fake-node.js";

const KMS_APP_ID = 7n;
const APP_ID = 42n;
const appTee = new SimulatedTee({ seed: "client-test-app" });

let nodeA: FakeNode;
let nodeB: FakeNode;
let registry: ReturnType<typeof memoryRegistry>;

beforeEach(async () => {
  const apps = [{ tee: appTee, appId: APP_ID }];
  [nodeA, nodeB] = await Promise.all([
    startFakeNode({ seed: "node-a", apps, kmsAppId: KMS_APP_ID }),
    startFakeNode({ seed: "node-b", apps, kmsAppId: KMS_APP_ID }),
  ]);
  registry = memoryRegistry([
    instanceOf(nodeA.tee, KMS_APP_ID, nodeA.url),
    instanceOf(nodeB.tee, KMS_APP_ID, nodeB.url),
  ]);
});

afterEach(async () => {
  await Promise.all([nodeA.close(), nodeB.close()]);
});

function client(overrides: Partial<NovaKmsClientOptions> = {}): NovaKmsClient {
  return new NovaKmsClient({
    tee: appTee,
    registry,
    kmsAppId: KMS_APP_ID,
    allowHttp: true,
    nodeSelection: "ordered",
    timeoutMs: 5_000,
    ...overrides,
  });
}

async function closedPortUrl(): Promise<string> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: () => new Response("x"), hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("happy path", () => {
  it("derives a key through nonce, PoP, envelope and the response checks", async () => {
    const result = await client().derive({ path: "wallet/root", context: "session-a", length: 16 });
    expect(result.appId).toBe(APP_ID);
    expect(result.path).toBe("wallet/root");
    expect(result.length).toBe(16);
    expect(Buffer.from(result.key)).toEqual(
      Buffer.from(deriveAppKey(TEST_MASTER_SECRET, APP_ID, "wallet/root", "session-a", 16)),
    );

    expect(nodeA.hits).toEqual({ nonce: 1, kms: 1 });
    expect(nodeB.hits.kms).toBe(0);
    const seen = nodeA.seen[0]!;
    expect(seen.body).toEqual({ op: "derive", context: "session-a", length: 16, path: "wallet/root" });
    // The sealed body carried this request's PoP nonce, so it cannot ride on another request's PoP.
    expect(seen.nonceBinding).toBe("bound");
    expect(seen.headers["x-app-wallet"]).toBe(appTee.identity.wallet);
    // The signed string names the node's on-chain wallet in lower case and the ts sent.
    const message = appAuthMessage(seen.headers["x-app-nonce"]!, nodeA.wallet, seen.headers["x-app-timestamp"]!);
    expect(verifyPop({ message, signature: seen.headers["x-app-signature"]! })).toBe(appTee.identity.wallet);
    expect(Math.abs(Number(seen.headers["x-app-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("omits optional derive fields", async () => {
    const result = await client().derive({ path: "p" });
    expect(nodeA.seen[0]!.body).toEqual({ op: "derive", path: "p" });
    expect(result.key.length).toBe(32);
  });

  it("stores, lists, reads and deletes KV entries; absent keys are undefined / false", async () => {
    const kms = client();
    const key = "dir/with space?&";
    const put = await kms.kv.put(key, "hello", { ttlMs: 60_000 });
    expect(put.key).toBe(key);
    const value = Buffer.from("hello").toString("base64");
    expect(nodeA.seen.at(-1)!.body).toEqual({ op: "kv.put", key, value, ttl_ms: 60_000 });
    await kms.kv.put("bin", Uint8Array.of(0, 255, 1));

    expect((await kms.kv.list()).sort()).toEqual(["bin", key]);
    const entry = await kms.kv.get(key);
    expect(nodeA.seen.at(-1)!.path).toBe(`/kms/data/${encodeURIComponent(key)}`);
    expect(Buffer.from(entry!.value).toString()).toBe("hello");
    expect(entry!.updatedAtMs).toBe(put.updatedAtMs);
    expect(Buffer.from((await kms.kv.get("bin"))!.value)).toEqual(Buffer.from([0, 255, 1]));

    expect(await kms.kv.delete(key)).toBe(true);
    expect(nodeA.seen.at(-1)!.body).toEqual({ op: "kv.delete", key });
    expect(await kms.kv.delete(key)).toBe(false);
    expect(await kms.kv.get(key)).toBeUndefined();
    // A 404 is an answer, not a node failure: the other node is never asked.
    expect(nodeB.hits.kms).toBe(0);
  });

  it("reports the keys a put evicted to make room (empty when the node names none)", async () => {
    const kms = client();
    expect((await kms.kv.put("k", "v")).evicted).toEqual([]);
    const updatedAtMs = Date.now();
    nodeA.misbehave.payload = {
      app_id: Number(APP_ID),
      key: "k",
      updated_at_ms: updatedAtMs,
      evicted: ["old-1", "old-2"],
    };
    expect(await kms.kv.put("k", "v")).toEqual({ key: "k", updatedAtMs, evicted: ["old-1", "old-2"] });
    // A node speaking another shape is a verification failure, not a silently empty list.
    nodeA.misbehave.payload = { app_id: Number(APP_ID), key: "k", updated_at_ms: updatedAtMs, evicted: "old-1" };
    expect(await kms.kv.put("k", "v").catch((e: unknown) => e)).toBeInstanceOf(KmsResponseVerificationError);
  });

  it("signs a CSR and fetches the public CA certificate", async () => {
    const kms = client();
    const csrPem = "-----BEGIN CERTIFICATE REQUEST-----\nabc\n-----END CERTIFICATE REQUEST-----\n";
    const cert = await kms.signCert({ csrPem, validityDays: 30 });
    const csr = Buffer.from(csrPem).toString("base64");
    expect(nodeA.seen.at(-1)!.body).toEqual({ op: "sign_cert", csr, validity_days: 30 });
    expect(cert.certificatePem).toContain("-----BEGIN CERTIFICATE-----");
    expect(cert.caCertificatePem).toBe(FAKE_CA_PEM);
    expect(await kms.ca()).toBe(FAKE_CA_PEM);
  });

  it("reads status and lists the on-chain nodes", async () => {
    const kms = client();
    const status = await kms.status();
    expect(status.node.tee_wallet).toBe(nodeA.wallet);
    expect(status.node.tee_pubkey).toBe(Buffer.from(nodeA.tee.identity.teePubkeySpki).toString("hex"));
    expect(status.node.service_available).toBe(true);
    expect(status.cluster).toMatchObject({ kms_app_id: 7, registry_address: FAKE_KMS_REGISTRY });
    expect(status.kms?.reason).toBe("serving");
    expect((await kms.status(`${nodeB.url}/`)).node.tee_wallet).toBe(nodeB.wallet);
    // A document in another shape (the old flat one) is refused, naming the field.
    nodeB.misbehave.status = { tee_wallet: nodeB.wallet, service_available: true };
    const err = await kms.status(nodeB.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsResponseVerificationError);
    expect((err as Error).message).toMatch(/field node:/);
    const nodes = await kms.nodes();
    expect(nodes.map((n) => n.wallet)).toEqual([nodeA.wallet, nodeB.wallet]);
    expect(Buffer.from(nodes[0]!.teePubkey)).toEqual(Buffer.from(nodeA.tee.identity.teePubkey));
  });
});

describe("response verification", () => {
  it("rejects a response signed by a wallet other than the node's on-chain wallet, without retrying", async () => {
    nodeA.misbehave.signWith = new SimulatedTee({ seed: "impostor" });
    const err = await client()
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsResponseVerificationError);
    expect((err as KmsResponseVerificationError).node).toBe(nodeA.url);
    expect((err as Error).message).toMatch(/on-chain wallet/);
    expect(nodeB.hits.kms).toBe(0);
  });

  it("rejects a response signature over a different x-app-signature (replayed answer)", async () => {
    nodeA.misbehave.signOverSignature = `0x${"11".repeat(65)}`;
    await expect(client().derive({ path: "p" })).rejects.toBeInstanceOf(KmsResponseVerificationError);
  });

  it("rejects a response without a signature", async () => {
    nodeA.misbehave.omitSignature = true;
    await expect(client().kv.list()).rejects.toThrow(/missing x-kms-response-signature/);
  });

  it("rejects a response envelope sealed by a key other than the node's on-chain teePubkey", async () => {
    // The impostor's envelope even decrypts for the app (it is sealed to the app's key): only the
    // comparison with the chain catches it.
    nodeA.misbehave.sealWith = new SimulatedTee({ seed: "impostor" });
    const err = await client()
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsResponseVerificationError);
    expect((err as Error).message).toMatch(/on-chain teePubkey/);
    expect(nodeB.hits.kms).toBe(0);
  });

  it("seals under its label option and rejects a reply to a body under another label", async () => {
    const enclaver = client({ label: ENCLAVER_LABEL });
    expect((await enclaver.derive({ path: "p" })).appId).toBeGreaterThan(0n);
    nodeA.misbehave.replyLabel = CAPSULE_LABEL;
    const err = await enclaver.derive({ path: "p" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsResponseVerificationError);
    expect((err as Error).message).toMatch(/reply sealed under capsule-ecdh-aes256gcm-v1, request under enclaver/);
    // A GET carries no label, so the node's choice is accepted.
    expect(await enclaver.kv.list()).toEqual([]);
  });

  it("rejects a correctly signed and sealed payload of the wrong shape, naming the field", async () => {
    nodeA.misbehave.payload = { app_id: 42, path: "p", key: "AAAA", length: 32 };
    await expect(client().derive({ path: "p" })).rejects.toThrow(KmsResponseVerificationError);
    nodeA.misbehave.payload = { app_id: 42, keys: [1], count: 1 };
    await expect(client().kv.list()).rejects.toThrow(/field keys is not a list of strings/);
  });

  it("rejects a sealed reply that does not echo this request's signature (another request's answer)", async () => {
    nodeA.misbehave.echo = `0x${"22".repeat(65)}`;
    const err = await client()
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsResponseVerificationError);
    expect((err as Error).message).toMatch(/sealed reply answers another request \(request_signature\)/);
    nodeA.misbehave = { omitEcho: true };
    await expect(client().kv.list()).rejects.toThrow(/does not name the request it answers/);
    expect(nodeB.hits.kms).toBe(0);
  });

  it("rejects a reply whose echoed path, length or key differs from what was asked", async () => {
    const kms = client();
    await kms.kv.put("mine", "v");
    nodeA.misbehave.payload = { app_id: 42, path: "other", key: "AAAA", length: 3 };
    await expect(kms.derive({ path: "p", length: 3 })).rejects.toThrow(/field path is not what the request asked/);
    nodeA.misbehave.payload = { app_id: 42, path: "p", key: "AAAA", length: 3 };
    await expect(kms.derive({ path: "p" })).rejects.toThrow(/field length is not what the request asked/);
    nodeA.misbehave.payload = { app_id: 42, key: "other", value: "", updated_at_ms: 1 };
    await expect(kms.kv.get("mine")).rejects.toThrow(/field key is not what the request asked/);
    nodeA.misbehave.payload = { app_id: 42, key: "other", updated_at_ms: 1 };
    await expect(kms.kv.put("mine", "v")).rejects.toThrow(/field key is not what the request asked/);
    nodeA.misbehave.payload = { app_id: 42, key: "other", deleted: true };
    await expect(kms.kv.delete("mine")).rejects.toThrow(/field key is not what the request asked/);
  });

  it("takes a KV 404 as absent only with the node's proof over this request and this key", async () => {
    const kms = client();
    expect(await kms.kv.get("absent")).toBeUndefined();
    nodeA.misbehave.unsignedNotFound = true;
    for (const call of [() => kms.kv.get("absent"), () => kms.kv.delete("absent")]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmsResponseVerificationError);
      expect((err as Error).message).toMatch(/404 .* without a valid x-kms-not-found-signature/);
    }
    // A proof for another key: the 404 of a path rewritten on the way.
    nodeA.misbehave = { notFoundKey: "elsewhere" };
    await expect(kms.kv.get("absent")).rejects.toBeInstanceOf(KmsResponseVerificationError);
    nodeA.misbehave = {};
    expect(await kms.kv.delete("absent")).toBe(false);
    // Verification failures are not retried away on another node.
    expect(nodeB.hits.kms).toBe(0);
  });

  it("seals requests to the on-chain teePubkey: a node that does not hold that key cannot read them", async () => {
    registry.instances[0] = instanceOf(nodeA.tee, KMS_APP_ID, nodeA.url, {
      teePubkey: new SimulatedTee({ seed: "other" }).identity.teePubkeySpki,
    });
    await expect(client().derive({ path: "p" })).rejects.toMatchObject({
      status: 400,
      message: "Envelope could not be decrypted",
    });
    expect(nodeA.seen).toHaveLength(0);
  });
});

describe("errors and failover", () => {
  it("validates its options", () => {
    expect(() => client({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => client({ maxAttempts: 1.5 })).toThrow(/integer/);
    expect(() => client({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });

  it("retries a 503 on another node", async () => {
    nodeA.misbehave.kmsStatus = 503;
    const result = await client().derive({ path: "p" });
    expect(result.appId).toBe(APP_ID);
    expect(nodeA.hits.kms).toBe(1);
    expect(nodeB.hits.kms).toBe(1);
  });

  it("surfaces 503 insufficient_replicas at once: the write's outcome is unknown, another node cannot fix it", async () => {
    nodeA.misbehave.kmsStatus = 503;
    nodeA.misbehave.kmsCode = "insufficient_replicas";
    const err = await client()
      .kv.put("k", "v")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsRequestError);
    expect(err).toMatchObject({ status: 503, code: "insufficient_replicas", retryable: false });
    expect(nodeB.hits.kms).toBe(0);
  });

  it.each([500, 502, 504])("retries a %i on another node", async (status) => {
    nodeA.misbehave.kmsStatus = status;
    await expect(client().kv.list()).resolves.toEqual([]);
    expect(nodeB.hits.kms).toBe(1);
  });

  it.each([403, 400, 413, 429])("surfaces a %i at once, typed, without trying another node", async (status) => {
    nodeA.misbehave.kmsStatus = status;
    const err = await client()
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsRequestError);
    expect(err).toMatchObject({ status, node: nodeA.url, message: "told to fail" });
    if (status === 403) expect((err as KmsRequestError).code).toBe("forbidden");
    expect(nodeB.hits).toEqual({ nonce: 0, kms: 0 });
  });

  it("maps a refused nonce like any other status (429 is not retried)", async () => {
    nodeA.misbehave.nonceStatus = 429;
    await expect(client().derive({ path: "p" })).rejects.toMatchObject({ status: 429 });
    expect(nodeB.hits.nonce).toBe(0);
  });

  it("an unregistered app gets the node's 403", async () => {
    const stranger = new SimulatedTee({ seed: "stranger" });
    await expect(client({ tee: stranger }).derive({ path: "p" })).rejects.toMatchObject({
      status: 403,
      code: "forbidden",
    });
  });

  it("retries an unreachable node on another node", async () => {
    const dead = new SimulatedTee({ seed: "dead-node" });
    registry.instances.unshift(instanceOf(dead, KMS_APP_ID, await closedPortUrl()));
    const result = await client().derive({ path: "p" });
    expect(result.appId).toBe(APP_ID);
    expect(nodeA.hits.kms).toBe(1);
  });

  it("gives up on a silent node after timeoutMs and retries on another", async () => {
    nodeA.misbehave.hang = true;
    const started = Date.now();
    await expect(client({ timeoutMs: 400 }).kv.list()).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(nodeB.hits.kms).toBe(1);
  });

  it("throws the last node error, with every attempt, when all nodes fail", async () => {
    nodeA.misbehave.kmsStatus = 503;
    nodeB.misbehave.hang = true;
    const err = await client({ timeoutMs: 400 })
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsTransportError);
    expect((err as KmsTransportError).kind).toBe("timeout");
    const attempts = (err as KmsTransportError).attempts;
    expect(attempts.map((a) => a.node)).toEqual([nodeA.url, nodeB.url]);
    expect(attempts[0]!.error).toMatchObject({ status: 503 });
  });

  it("tries at most maxAttempts nodes", async () => {
    nodeA.misbehave.kmsStatus = 503;
    await expect(client({ maxAttempts: 1 }).derive({ path: "p" })).rejects.toMatchObject({ status: 503 });
    expect(nodeB.hits.nonce).toBe(0);
  });

  it("re-reads the registry after a node failure", async () => {
    const kms = client();
    await kms.kv.list();
    const reads = registry.reads;
    await kms.kv.list();
    expect(registry.reads).toBe(reads);
    nodeA.misbehave.kmsStatus = 503;
    await kms.kv.list();
    expect(registry.reads).toBeGreaterThan(reads);
  });

  it("prefers a healthy node over one that just failed", async () => {
    const kms = client();
    nodeA.misbehave.kmsStatus = 503;
    await kms.kv.list();
    const aHits = nodeA.hits.kms;
    await kms.kv.list();
    expect(nodeA.hits.kms).toBe(aHits);
    expect(nodeB.hits.kms).toBe(2);
  });
});

describe("answers past the byte bound", () => {
  const MiB = 1024 * 1024;

  it.each([
    ["a body that never ends", {}],
    ["a 256 MiB body", { totalBytes: 256 * MiB }],
    ["a declared 256 MiB body", { totalBytes: 256 * MiB, declareLength: true }],
  ])("stops reading %s at 4 MiB, with a clear error and flat memory", async (_name, flood) => {
    const server = await startFloodServer(flood);
    registry.instances.unshift(instanceOf(new SimulatedTee({ seed: "flooding-node" }), KMS_APP_ID, server.url));
    try {
      const { outcome, growthBytes } = await peakRssGrowth(() => client({ timeoutMs: 20_000 }).derive({ path: "p" }));
      expect(outcome).toBeInstanceOf(KmsResponseVerificationError);
      expect((outcome as Error).message).toBe(
        `GET /nonce: answer from ${server.url} exceeds ${4 * MiB} bytes; not read`,
      );
      expect(growthBytes).toBeLessThan(64 * MiB);
      expect(server.bytesSent()).toBeLessThan(64 * MiB);
    } finally {
      await server.close();
    }
  });

  it("bounds kv.list by its own option, every other call by maxResponseBytes", async () => {
    for (let i = 0; i < 200; i++) nodeA.kv.set(`${APP_ID}/key-${i}`, { value: "", updatedAtMs: 1 });
    const small = client({ maxResponseBytes: 2048, maxListResponseBytes: 2048 });
    expect((await small.derive({ path: "p" })).length).toBe(32);
    await expect(small.kv.list()).rejects.toThrow(/GET \/kms\/data: answer from .* exceeds 2048 bytes; not read/);
    expect(await client({ maxResponseBytes: 2048 }).kv.list()).toHaveLength(200);
    expect(() => client({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes/);
  });
});
