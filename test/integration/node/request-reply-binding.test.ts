// Requests bound to their route, on one real node (README "API"): a sealed body fits exactly one
// route (strict schemas, `op`), so it cannot be re-sent to another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRequest, type AppResponse, type NodeTarget } from "../../support/app-request.js";
import { KmsHarness, isServing, waitFor, type TestApp } from "../../support/kms-harness.js";

let harness: KmsHarness;
let target: NodeTarget;
let app: TestApp;

const b64 = (text: string) => Buffer.from(text).toString("base64");
const send = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
  appRequest(target, app.tee, { method, path, body });
const message = (res: AppResponse) => (res.raw as { message: string }).message;

beforeAll(async () => {
  harness = await KmsHarness.start();
  const node = await harness.startNode({ env: { MASTER_SECRET_HEX: "33".repeat(32), RATE_LIMIT_PER_MINUTE: "0" } });
  await waitFor(() => isServing(node.url), 20_000, "node ready");
  target = { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey };
  app = await harness.registerApp();
});

afterAll(async () => {
  await harness?.stop();
});

describe("a sealed body fits one route only", () => {
  it("refuses a PUT body sent as a DELETE, and deletes nothing", async () => {
    const put = { key: "replayed", value: b64("keep me"), ttl_ms: 0 };
    expect((await send("PUT", "/kms/data", put)).status).toBe(200);
    // The same inner JSON, sealed afresh (a captured PUT never delivered), under a fresh PoP.
    const asDelete = await send("DELETE", "/kms/data", put);
    expect(asDelete.status).toBe(400);
    expect(message(asDelete)).toMatch(/^Invalid body: .*value/);
    const still = await send("GET", "/kms/data/replayed");
    expect(still.status).toBe(200);
    expect(still.json.value).toBe(b64("keep me"));
  });

  it("refuses a body whose op names another route", async () => {
    const wrongOp = await send("DELETE", "/kms/data", { key: "replayed", op: "kv.put" });
    expect(wrongOp.status).toBe(400);
    expect(message(wrongOp)).toMatch(/^Invalid op/);
    expect((await send("GET", "/kms/data/replayed")).status).toBe(200);
    expect((await send("POST", "/kms/derive", { path: "p", op: "kv.put" })).status).toBe(400);
    expect((await send("POST", "/kms/sign_cert", { csr: "AAAA", op: "derive" })).status).toBe(400);
    expect((await send("POST", "/kms/derive", { path: "p", op: "derive" })).status).toBe(200);
  });

  it("refuses unknown fields, naming them", async () => {
    for (const [path, body, unknown] of [
      ["/kms/derive", { path: "p", paht: "typo" }, "paht"],
      ["/kms/sign_cert", { csr: "AAAA", key: "k" }, "key"],
      ["/kms/derive", { path: "p", value: b64("v") }, "value"],
    ] as const) {
      const res = await send("POST", path, body);
      expect(res.status).toBe(400);
      expect(message(res)).toMatch(new RegExp(`^Invalid body: .*"${unknown}"`));
    }
  });

  it("accepts exactly what existing clients send", async () => {
    // The Nova runtime's KMS client, then the reference demo clients (demo-client, demo-client-enclaver).
    expect((await send("POST", "/kms/derive", { path: "p", context: "", length: 32 })).status).toBe(200);
    expect((await send("POST", "/kms/derive", { path: "p" })).status).toBe(200);
    expect((await send("POST", "/kms/derive", { path: "p", length: 32 })).status).toBe(200);
    expect((await send("POST", "/kms/derive", { path: "p", length: 32, context: "c" })).status).toBe(200);
    expect((await send("PUT", "/kms/data", { key: "legacy", value: b64("v"), ttl_ms: 0 })).status).toBe(200);
    expect((await send("DELETE", "/kms/data", { key: "legacy" })).status).toBe(200);
  });
});
