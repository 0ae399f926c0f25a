// One real node: certificate issuance and CA, body/rate limits, registry outage, metrics.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../../support/kms-harness.js";
import { appRequest, type NodeTarget } from "../../support/app-request.js";
import { startRpcProxy } from "../../support/rpc-proxy.js";

const SECRET = "11".repeat(32);

let harness: KmsHarness;
let kms: RunningNode;
let target: NodeTarget;
let app: TestApp;

async function csrPem(sans: x509.JsonGeneralName[] = [], name = "CN=whatever-the-app-asks"): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return csr.toString("pem");
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const fromB64 = (text: string) => Buffer.from(text, "base64").toString("utf8");

beforeAll(async () => {
  harness = await KmsHarness.start();
  kms = await harness.startNode({
    env: {
      CERT_ALLOWED_DNS_SUFFIXES: "apps.nova.test",
      RATE_LIMIT_PER_MINUTE: "0",
      MAX_BODY_BYTES: "4096",
      MASTER_SECRET_HEX: SECRET,
    },
  });
  target = { url: kms.url, wallet: kms.wallet, teePublicKey: kms.node.teePublicKey };
  app = await harness.registerApp();
  await waitFor(() => isServing(kms.url), 20_000, "node ready");
});

afterAll(async () => {
  await harness?.stop();
});

describe("certificates", () => {
  it("issues a leaf for CN=app-<appId> that chains to the CA served at /kms/ca", async () => {
    const dns = `app-${app.appId}.apps.nova.test`;
    const res = await appRequest(target, app.tee, {
      method: "POST",
      path: "/kms/sign_cert",
      body: { csr: b64(await csrPem([{ type: "dns", value: dns }])), validity_days: 30 },
    });
    expect(res.status).toBe(200);
    const leaf = new X509Certificate(fromB64(res.json.certificate));
    const caPem = await (await fetch(`${kms.url}/kms/ca`)).text();
    expect(fromB64(res.json.ca_certificate)).toBe(caPem);
    const ca = new X509Certificate(caPem);
    expect(leaf.subject).toBe(`CN=app-${app.appId}`);
    expect(leaf.subjectAltName).toBe(`DNS:${dns}`);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
  });

  it.each([
    [{ validity_days: 91 }, /validity/i],
    [{ sans: [{ type: "dns", value: "bank.example.com" }] }, /bank\.example\.com/],
    [{ csr: b64("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n") }, /./],
    [{ csr: "***" }, /csr/],
  ])("rejects a request outside policy with 400 (%o)", async (variant, message) => {
    const sans = "sans" in variant ? (variant.sans as x509.JsonGeneralName[]) : [];
    const body: Record<string, unknown> = { csr: "csr" in variant ? variant.csr : b64(await csrPem(sans)) };
    if ("validity_days" in variant) body.validity_days = variant.validity_days;
    const res = await appRequest(target, app.tee, { method: "POST", path: "/kms/sign_cert", body });
    expect(res.status).toBe(400);
    expect((res.raw as { message: string }).message).toMatch(message);
  });
});

describe("limits", () => {
  it("answers 413 for a body over MAX_BODY_BYTES, even without Content-Length", async () => {
    const big = { path: "p".repeat(5000) };
    const res = await appRequest(target, app.tee, { method: "POST", path: "/kms/derive", body: big });
    expect(res.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
        controller.close();
      },
    });
    const chunked = await fetch(`${kms.url}/kms/derive`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it("answers 429 when a client exceeds the nonce rate limit", async () => {
    const limited = await harness.startNode({ env: { NONCE_RATE_LIMIT_PER_MINUTE: "5", MASTER_SECRET_HEX: SECRET } });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${limited.url}/nonce`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const body = await (await fetch(`${limited.url}/nonce`)).json();
    expect(body).toMatchObject({ code: "rate_limited" });
    await limited.stop();
  });

  it.each([
    ["one app over its per-app limit", "APP_RATE_LIMIT_PER_MINUTE", /\(app\)/],
    ["one caller wallet over its limit", "WALLET_RATE_LIMIT_PER_MINUTE", /\(wallet\)/],
  ])("answers 429 to %s, while another app behind the same address is served", async (_name, variable, which) => {
    const limited = await harness.startNode({ env: { [variable]: "3", MASTER_SECRET_HEX: SECRET } });
    await waitFor(() => isServing(limited.url), 20_000, "limited node ready");
    const node = { url: limited.url, wallet: limited.wallet, teePublicKey: limited.node.teePublicKey };
    const derive = (caller: TestApp) =>
      appRequest(node, caller.tee, { method: "POST", path: "/kms/derive", body: { path: "p" } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await derive(app)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await derive(app)).raw).toMatchObject({ code: "rate_limited", message: expect.stringMatching(which) });
    const other = await harness.registerApp();
    expect((await derive(other)).status).toBe(200);
    await limited.stop();
  });

  it("answers 404 with a JSON body for unknown routes", async () => {
    const res = await fetch(`${kms.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });
});

describe("registry outage", () => {
  it("answers 503 (never allow) when the chain cannot be read", async () => {
    const proxy = await startRpcProxy(harness.chain.deployment.rpcUrl);
    const node = await harness.startNode({
      env: {
        CHAIN_RPC_URL: proxy.url,
        CHAIN_TIMEOUT_MS: "500",
        AUTH_CACHE_TTL_SECONDS: "0",
        MASTER_SECRET_HEX: SECRET,
      },
    });
    await waitFor(() => isServing(node.url), 20_000, "node ready");
    const nodeTarget = { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey };
    const call = () => appRequest(nodeTarget, app.tee, { method: "POST", path: "/kms/derive", body: { path: "p" } });
    expect((await call()).status).toBe(200);
    proxy.setCut(true);
    const res = await call();
    expect(res.status).toBe(503);
    expect(res.raw).toMatchObject({ code: "service_unavailable", message: "Registry unavailable" });
    proxy.setCut(false);
    expect((await call()).status).toBe(200);
    await node.stop();
    await proxy.close();
  });
});

describe("authorization cache", () => {
  it("concurrent requests of one new caller share one registry lookup", async () => {
    const proxy = await startRpcProxy(harness.chain.deployment.rpcUrl);
    const node = await harness.startNode({
      env: { CHAIN_RPC_URL: proxy.url, MASTER_SECRET_HEX: SECRET, RATE_LIMIT_PER_MINUTE: "0" },
    });
    try {
      await waitFor(() => isServing(node.url), 20_000, "node ready");
      const caller = await harness.registerApp();
      const walletInCalldata = caller.wallet.slice(2).toLowerCase();
      const lookups = () => proxy.bodies.filter((b) => b.toLowerCase().includes(walletInCalldata)).length;
      const nodeTarget = { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey };
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          appRequest(nodeTarget, caller.tee, { method: "POST", path: "/kms/derive", body: { path: "p" } }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(lookups()).toBe(1);
    } finally {
      await node.stop();
      await proxy.close();
    }
  });

  it("a refused wallet is let in within the negative cache time (≤ 5 s) once it is registered", async () => {
    const pending = await harness.registerApp({ zkVerified: false });
    const derive = () => appRequest(target, pending.tee, { method: "POST", path: "/kms/derive", body: { path: "p" } });
    expect((await derive()).status).toBe(403);
    await harness.chain.admin.setZkVerified(pending.instanceId, true);
    const verifiedAt = Date.now();
    await waitFor(async () => (await derive()).status === 200, 8_000, "negative answer expired");
    expect(Date.now() - verifiedAt).toBeLessThan(6_000);
  });
});

describe("metrics", () => {
  it("counts requests by route and status, and auth failures without their reasons by default", async () => {
    await appRequest(target, app.tee, { method: "POST", path: "/kms/derive", body: { path: "p" }, omit: ["nonce"] });
    const text = await (await fetch(`${kms.url}/metrics`)).text();
    expect(text).toMatch(/kms_http_requests_total\{route="\/nonce",method="GET",status="200"\} \d+/);
    expect(text).toMatch(/^kms_auth_failures_total [1-9]/m);
    expect(text).not.toMatch(/reason=/);
    expect(text).toMatch(/kms_http_request_duration_seconds_bucket/);
  });
});
