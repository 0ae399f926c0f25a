// The KV API of one real node on a real chain: CRUD, TTL, isolation, quotas, eviction, sizes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../../support/kms-harness.js";
import { appRequest, type NodeTarget } from "../../support/app-request.js";

let harness: KmsHarness;
let _kms: RunningNode;
let target: NodeTarget;
let app: TestApp;

const b64 = (text: string | Uint8Array) => Buffer.from(text).toString("base64");
const kv = (caller: TestApp, method: "GET" | "PUT" | "DELETE", path: string, body?: unknown, node = target) =>
  appRequest(node, caller.tee, { method, path, body });

async function startReady(env: Record<string, string>): Promise<{ node: RunningNode; target: NodeTarget }> {
  const node = await harness.startNode({ env: { MASTER_SECRET_HEX: "22".repeat(32), ...env } });
  await waitFor(() => isServing(node.url), 20_000, "node ready");
  return { node, target: { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey } };
}

beforeAll(async () => {
  harness = await KmsHarness.start();
  ({ node: _kms, target } = await startReady({ KV_MAX_KEYS_PER_APP: "50" }));
  app = await harness.registerApp();
});

afterAll(async () => {
  await harness?.stop();
});

describe("KV API", () => {
  it("put, get (path and query forms), list, delete", async () => {
    const put = await kv(app, "PUT", "/kms/data", { key: "config/db", value: b64("s3cret") });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ app_id: Number(app.appId), key: "config/db" });
    expect(put.json.updated_at_ms).toBeGreaterThan(0);

    const got = await kv(app, "GET", `/kms/data/${encodeURIComponent("config/db")}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual({
      app_id: Number(app.appId),
      key: "config/db",
      value: b64("s3cret"),
      updated_at_ms: put.json.updated_at_ms,
      request_signature: got.sentSignature,
    });
    const byQuery = await kv(app, "GET", `/kms/data?key=${encodeURIComponent("config/db")}`);
    expect(byQuery.json.value).toBe(b64("s3cret"));

    await kv(app, "PUT", "/kms/data", { key: "a", value: b64("1") });
    const list = await kv(app, "GET", "/kms/data");
    const listed = { app_id: Number(app.appId), keys: ["a", "config/db"], count: 2 };
    expect(list.json).toEqual({ ...listed, request_signature: list.sentSignature });

    const del = await kv(app, "DELETE", "/kms/data", { key: "config/db" });
    const deleted = { app_id: Number(app.appId), key: "config/db", deleted: true };
    expect(del.json).toEqual({ ...deleted, request_signature: del.sentSignature });
    expect((await kv(app, "GET", "/kms/data/config%2Fdb")).status).toBe(404);
    expect((await kv(app, "DELETE", "/kms/data", { key: "config/db" })).status).toBe(404);
  });

  it("isolates apps: one app cannot see or delete another's keys", async () => {
    const other = await harness.registerApp();
    await kv(app, "PUT", "/kms/data", { key: "shared-name", value: b64("mine") });
    expect((await kv(other, "GET", "/kms/data/shared-name")).status).toBe(404);
    expect((await kv(other, "DELETE", "/kms/data", { key: "shared-name" })).status).toBe(404);
    expect((await kv(other, "GET", "/kms/data")).json.keys).toEqual([]);
    expect((await kv(app, "GET", "/kms/data/shared-name")).json.value).toBe(b64("mine"));
  });

  it("expires a value after ttl_ms", async () => {
    await kv(app, "PUT", "/kms/data", { key: "short", value: b64("x"), ttl_ms: 300 });
    expect((await kv(app, "GET", "/kms/data/short")).status).toBe(200);
    await waitFor(async () => (await kv(app, "GET", "/kms/data/short")).status === 404, 5_000, "expiry");
  });

  it.each([
    [{ key: "", value: b64("x") }, 400],
    [{ key: "k", value: "not base64!" }, 400],
    [{ key: "k", value: b64("x"), ttl_ms: -1 }, 400],
    [{ key: "k".repeat(513), value: b64("x") }, 400],
    [{ value: b64("x") }, 400],
  ])("rejects %o with %i and writes nothing", async (body, status) => {
    const before = (await kv(app, "GET", "/kms/data")).json.keys;
    const res = await kv(app, "PUT", "/kms/data", body);
    expect(res.status).toBe(status);
    expect((await kv(app, "GET", "/kms/data")).json.keys).toEqual(before);
  });

  it("stores a 1 MiB value and refuses a larger one with 413", async () => {
    const mib = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const ok = await kv(app, "PUT", "/kms/data", { key: "big", value: b64(mib) });
    expect(ok.status).toBe(200);
    expect((await kv(app, "GET", "/kms/data/big")).json.value).toBe(b64(mib));
    const tooBig = await kv(app, "PUT", "/kms/data", { key: "bigger", value: b64(new Uint8Array(1024 * 1024 + 1)) });
    expect(tooBig.status).toBe(413);
  });
});

describe("quotas", () => {
  it("evicts the least recently used key (never the one being written) and reports it", async () => {
    // With METRICS_DETAIL the eviction counter names the app (by default it is a node-wide total).
    const { node, target: limited } = await startReady({ KV_MAX_KEYS_PER_APP: "3", METRICS_DETAIL: "true" });
    const owner = await harness.registerApp();
    for (const key of ["k1", "k2", "k3"]) await kv(owner, "PUT", "/kms/data", { key, value: b64(key) }, limited);
    await kv(owner, "GET", "/kms/data/k1", undefined, limited); // k1 is now more recent than k2
    const put = await kv(owner, "PUT", "/kms/data", { key: "k4", value: b64("k4") }, limited);
    expect(put.status).toBe(200);
    expect(put.json.evicted).toEqual(["k2"]);
    expect((await kv(owner, "GET", "/kms/data", undefined, limited)).json.keys).toEqual(["k1", "k3", "k4"]);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`kms_kv_evictions_total\\{app="${owner.appId}"\\} 1`));
    await node.stop();
  });

  it("with KV_OVERFLOW=reject answers 413 and changes nothing", async () => {
    const { node, target: strict } = await startReady({ KV_MAX_KEYS_PER_APP: "2", KV_OVERFLOW: "reject" });
    const owner = await harness.registerApp();
    for (const key of ["k1", "k2"]) await kv(owner, "PUT", "/kms/data", { key, value: b64(key) }, strict);
    const res = await kv(owner, "PUT", "/kms/data", { key: "k3", value: b64("k3") }, strict);
    expect(res.status).toBe(413);
    expect((await kv(owner, "GET", "/kms/data", undefined, strict)).json.keys).toEqual(["k1", "k2"]);
    await node.stop();
  });
});
