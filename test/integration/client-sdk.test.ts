// The SDK and the CLI against real nodes on a real anvil chain: discovery from the registry,
// every route through the full protocol, and failover when a node goes away.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, webcrypto } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NovaKmsClient, NovaKmsClientOptions } from "../../client/nova-kms-client.js";
import { KmsRequestError, KmsTransportError } from "../../client/errors.js";
import { deriveAppKey } from "../../enclave/crypto/kdf.js";
import { hexToBytes } from "../../enclave/crypto/bytes.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL } from "../../enclave/crypto/envelope.js";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../support/kms-harness.js";

const SECRET = "22".repeat(32);

let harness: KmsHarness;
let nodeA: RunningNode;
let nodeB: RunningNode;
let app: TestApp;

function client(overrides: Partial<NovaKmsClientOptions> = {}): NovaKmsClient {
  return harness.sdkClient(app.tee, overrides);
}

beforeAll(async () => {
  harness = await KmsHarness.start();
  const env = { MASTER_SECRET_HEX: SECRET, RATE_LIMIT_PER_MINUTE: "0" };
  nodeA = await harness.startNode({ env });
  nodeB = await harness.startNode({ env });
  app = await harness.registerApp();
  for (const n of [nodeA, nodeB]) await waitFor(() => isServing(n.url), 30_000, `${n.url} ready`);
});

afterAll(async () => {
  await harness?.stop();
});

describe("NovaKmsClient against real nodes", () => {
  it("discovers both nodes from the registry with their on-chain keys", async () => {
    const nodes = await client().nodes();
    expect(nodes.map((n) => n.wallet).sort()).toEqual([nodeA.wallet, nodeB.wallet].sort());
    const a = nodes.find((n) => n.wallet === nodeA.wallet)!;
    expect(Buffer.from(a.teePubkey)).toEqual(Buffer.from(nodeA.node.teePublicKey));
  });

  it("reads a real node's /status in the reference shape", async () => {
    // B registered second, so the membership it read before serving lists both.
    const status = await client().status(nodeB.url);
    expect(status.node).toMatchObject({ tee_wallet: nodeB.wallet, service_available: true, is_operator: true });
    expect(status.cluster.total_instances).toBe(2);
    expect(status.kms?.reason).toBe("serving");
  });

  it("derives the protocol's key for the caller's app", async () => {
    const result = await client().derive({ path: "wallet/root", context: "session-a" });
    expect(result.appId).toBe(app.appId);
    expect(Buffer.from(result.key)).toEqual(
      Buffer.from(deriveAppKey(hexToBytes(SECRET), app.appId, "wallet/root", "session-a", 32)),
    );
  });

  it("writes, reads, lists and deletes KV entries", async () => {
    const kms = client();
    const key = `cfg/${Date.now()} x`;
    await kms.kv.put(key, "value-1");
    expect(Buffer.from((await kms.kv.get(key))!.value).toString()).toBe("value-1");
    expect(await kms.kv.list()).toContain(key);
    expect(await kms.kv.delete(key)).toBe(true);
    expect(await kms.kv.get(key)).toBeUndefined();
    expect(await kms.kv.delete(key)).toBe(false);
  });

  it.each([
    ["capsule", CAPSULE_LABEL],
    ["enclaver", ENCLAVER_LABEL],
  ] as const)("works end to end with the %s envelope label", async (_name, label) => {
    const kms = client({ label });
    const result = await kms.derive({ path: "label-check" });
    expect(Buffer.from(result.key)).toEqual(
      Buffer.from(deriveAppKey(hexToBytes(SECRET), app.appId, "label-check", "", 32)),
    );
    const key = `label/${label} ${Date.now()}`;
    await kms.kv.put(key, label);
    expect(Buffer.from((await kms.kv.get(key))!.value).toString()).toBe(label);
    expect(await kms.kv.list()).toContain(key);
    expect(await kms.kv.delete(key)).toBe(true);
  });

  it("gets a certificate bound to the app that chains to the public CA", async () => {
    const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: "CN=anything",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    const kms = client();
    const cert = await kms.signCert({ csrPem: csr.toString("pem"), validityDays: 7 });
    const leaf = new X509Certificate(cert.certificatePem);
    expect(leaf.subject).toBe(`CN=app-${app.appId}`);
    expect(leaf.checkIssued(new X509Certificate(await kms.ca()))).toBe(true);
    expect(cert.caCertificatePem.trim()).toBe((await kms.ca()).trim());
  });

  it("surfaces the node's 403 for an app that is not registered", async () => {
    const stranger = await harness.registerApp({ zkVerified: false });
    const err = await client({ tee: stranger.tee })
      .derive({ path: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsRequestError);
    expect(err).toMatchObject({ status: 403 });
  });
});

describe("nova-kms CLI against real nodes", () => {
  it("derives the same key as the SDK", async () => {
    const args = harness.cliArgs();
    const seed = `cli-app-${Date.now()}`;
    const cliApp = await harness.registerApp({ seed });
    const run = await execa("npx", [...args, "--app-seed", seed, "--allow-http", "derive", "disk", "--hex"], {
      reject: false,
    });
    expect(run.stderr.replace(/npm warn.*\n?/g, "")).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(
      Buffer.from(deriveAppKey(hexToBytes(SECRET), cliApp.appId, "disk", "", 32)).toString("hex"),
    );

    const enclaver = await execa(
      "npx",
      [...args, "--app-seed", seed, "--allow-http", "--label", "enclaver", "derive", "disk", "--hex"],
      {
        reject: false,
      },
    );
    expect(enclaver.exitCode).toBe(0);
    expect(enclaver.stdout.trim()).toBe(run.stdout.trim());
    const badLabel = await execa(
      "npx",
      [...args, "--app-seed", seed, "--allow-http", "--label", "odyn", "derive", "disk"],
      { reject: false },
    );
    expect(badLabel.exitCode).toBe(2);
    expect(badLabel.stderr).toMatch(/capsule, enclaver/);

    const refused = await execa("npx", [...args, "--app-seed", seed, "derive", "disk"], { reject: false });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/http:\/\/ node URLs are refused/);
  });
});

describe("failover", () => {
  it("moves to the other node when one stops answering", async () => {
    const kms = client({ timeoutMs: 3_000 });
    const first = (await kms.nodes())[0]!;
    const running = first.wallet === nodeA.wallet ? nodeA : nodeB;
    await running.stop();
    const result = await kms.derive({ path: "after-failover" });
    expect(result.appId).toBe(app.appId);
    // With only the stopped node allowed, the error says it could not be reached.
    const err = await client({ maxAttempts: 1 })
      .derive({ path: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsTransportError);
  });
});
