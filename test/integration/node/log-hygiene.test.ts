// Logs at the most verbose level, across every kind of request a node serves and a peer's
// master-secret transfer and sync, never contain a secret, a derived key, a stored value or a
// signature (DESIGN.md "Keys": secrets never logged).
import { afterAll, beforeAll, expect, it } from "vitest";
import { bytesToBase64, bytesToHex, hexToBytes } from "../../../enclave/crypto/bytes.js";
import { deriveAppKey, deriveInternalKey } from "../../../enclave/crypto/kdf.js";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../../support/kms-harness.js";
import { appRequest, type NodeTarget } from "../../support/app-request.js";

const SECRET_HEX = "3c".repeat(32);
const VALUE = "correct horse battery staple";
const lines: string[] = [];
const capture = { write: (line: string) => void lines.push(line) };

let harness: KmsHarness;
let a: RunningNode;
let b: RunningNode;
let app: TestApp;
const sent: string[] = [];

const target = (n: RunningNode): NodeTarget => ({ url: n.url, wallet: n.wallet, teePublicKey: n.node.teePublicKey });

beforeAll(async () => {
  harness = await KmsHarness.start();
  const env = { LOG_LEVEL: "trace", DATA_SYNC_INTERVAL_MS: "200" };
  a = await harness.startNode({ env: { ...env, MASTER_SECRET_HEX: SECRET_HEX }, logDestination: capture });
  await waitFor(() => isServing(a.url), 20_000, "A ready");
  b = await harness.startNode({ env, logDestination: capture }); // adopts the secret from A over /sync
  await waitFor(() => isServing(b.url), 20_000, "B ready");
  app = await harness.registerApp();
  const derive = await appRequest(target(a), app.tee, {
    method: "POST",
    path: "/kms/derive",
    body: { path: "wallet/root" },
  });
  sent.push(derive.sentSignature!, derive.headers.get("x-kms-response-signature")!);
  const put = await appRequest(target(a), app.tee, {
    method: "PUT",
    path: "/kms/data",
    body: { key: "k", value: Buffer.from(VALUE).toString("base64") },
  });
  sent.push(put.sentSignature!);
  await waitFor(
    async () => (await appRequest(target(b), app.tee, { method: "GET", path: "/kms/data/k" })).status === 200,
    10_000,
    "replicated",
  );
  // A few failures too: their log lines carry reasons, not inputs.
  await appRequest(target(a), app.tee, { method: "POST", path: "/kms/derive", body: { path: "" } });
  await appRequest(target(a), app.tee, {
    method: "POST",
    path: "/kms/derive",
    body: { path: "p" },
    walletHeader: "0x000000000000000000000000000000000000dead",
  });
});

afterAll(async () => {
  await harness?.stop();
});

it("logs requests and events but no secret, key, value or signature", () => {
  const text = lines.join("\n");
  expect(lines.length).toBeGreaterThan(10);
  expect(text).toMatch(/"msg":"request"/);
  expect(text).toMatch(/adopted the cluster master secret from a peer/);
  const master = hexToBytes(SECRET_HEX);
  const forbidden = [
    SECRET_HEX,
    bytesToBase64(master),
    bytesToHex(deriveAppKey(master, app.appId, "wallet/root")),
    bytesToBase64(deriveAppKey(master, app.appId, "wallet/root")),
    bytesToHex(deriveInternalKey(master, { kind: "sync-mac" })),
    bytesToHex(deriveInternalKey(master, { kind: "kv-data", appId: app.appId })),
    VALUE,
    Buffer.from(VALUE).toString("base64"),
    ...sent.map((s) => s.replace(/^0x/, "")),
  ];
  for (const needle of forbidden) expect(text.toLowerCase()).not.toContain(needle.toLowerCase());
});
