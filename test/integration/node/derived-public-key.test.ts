// One real node on a real anvil chain: GET /derived_public_key (PROTOCOL.md §12) names the address of
// the very key the app gets from /kms/derive, signed by the node's wallet; bad input is a 400, a node
// that does not serve answers 503; the SDK checks the answer and refuses a tampered one.
import { recoverMessageAddress } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsResponseVerificationError } from "../../../client/errors.js";
import type { NovaKmsClient } from "../../../client/nova-kms-client.js";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import { derivedPublicKeyMessage } from "../../../enclave/crypto/derived-public-key.js";
import { appRequest, type NodeTarget } from "../../support/app-request.js";
import {
  getStatus,
  isServing,
  KmsHarness,
  waitFor,
  type RunningNode,
  type TestApp,
} from "../../support/kms-harness.js";

const SECRET = "33".repeat(32);

let harness: KmsHarness;
let kms: RunningNode;
let target: NodeTarget;
let app: TestApp;

// biome-ignore lint/suspicious/noExplicitAny: a JSON answer; tests assert on its fields.
async function dpk(query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${kms.url}/derived_public_key${query}`);
  return { status: res.status, body: await res.json() };
}

const query = (appId: bigint, path: string, context?: string) =>
  `?${new URLSearchParams({ app_id: appId.toString(), path, ...(context === undefined ? {} : { context }) })}`;

function client(fetchFn?: (input: string, init: RequestInit) => Promise<Response>): NovaKmsClient {
  return harness.sdkClient(app.tee, fetchFn ? { fetch: fetchFn } : {});
}

beforeAll(async () => {
  harness = await KmsHarness.start();
  kms = await harness.startNode({ env: { MASTER_SECRET_HEX: SECRET, RATE_LIMIT_PER_MINUTE: "0" } });
  target = { url: kms.url, wallet: kms.wallet, teePublicKey: kms.node.teePublicKey };
  app = await harness.registerApp();
  await waitFor(() => isServing(kms.url), 20_000, "node ready");
});

afterAll(async () => {
  await harness?.stop();
});

describe("GET /derived_public_key on a real node", () => {
  it.each([
    ["wallet/root", "session-a"],
    ["wallet/root", undefined],
    ["m/44'/60'/0'/0/0", "ctx with spaces & ünïcode"],
  ])(
    "names the address of the key the app derives (path %s, context %s), signed by the node",
    async (path, context) => {
      const { status, body } = await dpk(query(app.appId, path, context));
      expect(status).toBe(200);

      const derived = await appRequest(target, app.tee, {
        method: "POST",
        path: "/kms/derive",
        body: context === undefined ? { path } : { path, context },
      });
      expect(derived.status).toBe(200);
      const key = Buffer.from(derived.json.key, "base64");
      expect(key).toHaveLength(32);
      expect(body.address).toBe(privateKeyToAddress(`0x${key.toString("hex")}`).toLowerCase());
      expect(body).toMatchObject({
        app_id: app.appId.toString(),
        path,
        context: context ?? "",
        node_wallet: kms.wallet,
      });
      expect(body.public_key).toMatch(/^04[0-9a-f]{128}$/);

      const message = `NovaKMS:DerivedPublicKey:${app.appId}:${path}:${context ?? ""}:${body.address}`;
      expect(derivedPublicKeyMessage({ appId: app.appId, path, context: context ?? "" }, body.address)).toBe(message);
      expect((await recoverMessageAddress({ message, signature: body.signature })).toLowerCase()).toBe(kms.wallet);
    },
  );

  it("answers another address for another app id, path or context", async () => {
    const base = (await dpk(query(app.appId, "p", "c"))).body.address;
    const others = await Promise.all([
      dpk(query(app.appId + 1n, "p", "c")),
      dpk(query(app.appId, "q", "c")),
      dpk(query(app.appId, "p", "d")),
    ]);
    const addresses = others.map((o) => o.body.address);
    expect(new Set([base, ...addresses]).size).toBe(4);
  });

  it.each([
    "?path=p",
    "?app_id=0&path=p",
    "?app_id=abc&path=p",
    `?app_id=${(1n << 256n).toString()}&path=p`,
    "?app_id=1",
    "?app_id=1&path=",
    `?app_id=1&path=${"p".repeat(1025)}`,
    "?app_id=1&path=p&context=x%3A",
    "?app_id=1&path=p&extra=1",
  ])("refuses %s with 400", async (q) => {
    const { status, body } = await dpk(q);
    expect(status).toBe(400);
    expect(body.code).toBe("bad_request");
  });

  it("answers 503 with the reason on a node that does not serve", async () => {
    const late = await harness.startNode({ register: false, env: { MASTER_SECRET_HEX: SECRET } });
    try {
      await waitFor(async () => /not registered/.test((await getStatus(late.url)).kms.reason), 10_000, "reason");
      const res = await fetch(`${late.url}/derived_public_key${query(app.appId, "p")}`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("service_unavailable");
      expect(body.message).toMatch(/not registered/);
    } finally {
      await late.stop();
    }
  });
});

describe("NovaKmsClient.derivedPublicKey", () => {
  it("returns the checked answer: the app's derive key's public key and address, the node's signature", async () => {
    const result = await client().derivedPublicKey({ appId: app.appId, path: "wallet/root", context: "session-a" });
    const own = await appRequest(target, app.tee, {
      method: "POST",
      path: "/kms/derive",
      body: { path: "wallet/root", context: "session-a" },
    });
    const key = `0x${Buffer.from(own.json.key, "base64").toString("hex")}` as const;
    expect(result.address).toBe(privateKeyToAddress(key).toLowerCase());
    expect(result).toMatchObject({
      appId: app.appId,
      path: "wallet/root",
      context: "session-a",
      nodeWallet: kms.wallet,
    });
    expect(bytesToHex(result.publicKey)).toMatch(/^04/);
    // Without a context: the same as the node's answer for context "".
    const plain = await client().derivedPublicKey({ appId: app.appId, path: "wallet/root" });
    expect(plain.address).toBe((await dpk(query(app.appId, "wallet/root"))).body.address);
  });

  it("refuses a tampered answer (another key's address and public key, or another path)", async () => {
    const other = (await dpk(query(app.appId + 1n, "wallet/root", "session-a"))).body;
    const tamperings: Array<(body: Record<string, string>) => void> = [
      (b) => Object.assign(b, { public_key: other.public_key, address: other.address }),
      (b) => Object.assign(b, { address: other.address }),
      (b) => Object.assign(b, { path: "wallet/other" }),
      (b) => Object.assign(b, { signature: other.signature }),
    ];
    for (const tamper of tamperings) {
      let calls = 0;
      const tampering = async (input: string, init: RequestInit) => {
        const res = await fetch(input, init);
        if (!input.includes("/derived_public_key")) return res;
        calls++;
        const body = (await res.json()) as Record<string, string>;
        tamper(body);
        return new Response(JSON.stringify(body), {
          status: res.status,
          headers: { "content-type": "application/json" },
        });
      };
      await expect(
        client(tampering).derivedPublicKey({ appId: app.appId, path: "wallet/root", context: "session-a" }),
      ).rejects.toBeInstanceOf(KmsResponseVerificationError);
      expect(calls).toBe(1);
    }
  });
});
