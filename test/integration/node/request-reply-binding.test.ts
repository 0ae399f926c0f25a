// Requests and replies bound to each other, on one real node (README "API": reply binding):
//   a sealed body fits exactly one route (strict schemas, `op`), so it cannot be re-sent to another;
//   every sealed reply names its request, and a KV miss carries the node's proof — so neither a
//   swapped body nor a forged 404 passes the SDK. The SDK runs over an on-path party (its `fetch`)
//   that does what the security review did.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsResponseVerificationError } from "../../../client/errors.js";
import { NovaKmsClient } from "../../../client/nova-kms-client.js";
import type { FetchLike } from "../../../client/signed-request.js";
import { undiciFetch } from "../../../client/undici-fetch.js";
import { verifyAppNotFound } from "../../../enclave/crypto/pop.js";
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

function sdk(fetch: FetchLike): NovaKmsClient {
  return new NovaKmsClient({
    tee: app.tee,
    registry: harness.chain.reader,
    kmsAppId: harness.chain.deployment.kmsAppId,
    allowHttp: true,
    fetch,
  });
}

/** A copy of `res` with another body (the length header dropped: it described the old one). */
function withBody(res: Response, body: string): Response {
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(body, { status: res.status, headers });
}

/** An on-path party that holds the first two answers to `path` and hands each the other's body. */
function swappingBodiesOf(path: string): FetchLike {
  let first: { res: Response; text: string; deliver: (res: Response) => void } | undefined;
  return async (url, init) => {
    const res = await undiciFetch(url, init);
    if (new URL(url).pathname !== path) return res;
    const text = await res.text();
    return new Promise<Response>((deliver) => {
      if (!first) {
        first = { res, text, deliver };
        return;
      }
      first.deliver(withBody(first.res, text));
      deliver(withBody(res, first.text));
    });
  };
}

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

  it("refuses a body of the same route carrying another request's nonce (a captured DELETE k2 sent as DELETE k1)", async () => {
    expect((await send("PUT", "/kms/data", { key: "k1", value: b64("keep me") })).status).toBe(200);
    // The SDK seals `request_nonce` into every body; a body captured from an earlier request carries
    // that request's nonce, not the fresh PoP's.
    const captured = { op: "kv.delete", key: "k1", request_nonce: "AAECAwQFBgcICQoLDA0ODw==" };
    const replayed = await send("DELETE", "/kms/data", captured);
    expect(replayed.status).toBe(403);
    expect(message(replayed)).toBe("request_nonce is not this request's nonce");
    expect((await send("GET", "/kms/data/k1")).json.value).toBe(b64("keep me"));
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

describe("every answer names its request", () => {
  it("echoes the request's PoP signature in every sealed /kms reply", async () => {
    const answers = [
      await send("POST", "/kms/derive", { path: "p" }),
      await send("PUT", "/kms/data", { key: "echo", value: b64("v") }),
      await send("GET", "/kms/data/echo"),
      await send("GET", "/kms/data"),
      await send("DELETE", "/kms/data", { key: "echo" }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.json.request_signature).toBe(res.sentSignature);
    }
  });

  it("answers a KV miss with the plaintext 404 every client reads, signed over the request and the key", async () => {
    for (const [operation, res] of [
      ["kv.get", await send("GET", `/kms/data/${encodeURIComponent("no such/key")}`)],
      ["kv.delete", await send("DELETE", "/kms/data", { key: "no such/key" })],
    ] as const) {
      expect(res.status).toBe(404);
      expect(res.raw).toEqual({ code: "not_found", message: "Key not found" });
      const proof = { appSignature: res.sentSignature!, nodeWallet: target.wallet, operation, key: "no such/key" };
      const notFoundSignature = res.headers.get("x-kms-not-found-signature")!;
      expect(verifyAppNotFound({ ...proof, notFoundSignature })).toBe(target.wallet);
      expect(() => verifyAppNotFound({ ...proof, key: "no such", notFoundSignature })).toThrow();
    }
  });

  it("the SDK refuses two concurrent derives whose bodies were swapped on the way", async () => {
    const kms = sdk(swappingBodiesOf("/kms/derive"));
    const results = await Promise.allSettled([kms.derive({ path: "alice" }), kms.derive({ path: "bob" })]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason as Error;
      expect(reason).toBeInstanceOf(KmsResponseVerificationError);
      expect(reason.message).toMatch(/sealed reply answers another request/);
    }
  });

  it("the SDK reports a forged unsigned 404 as unverified, never as absent", async () => {
    const honest = sdk(undiciFetch);
    await honest.kv.put("present", "value");
    const forging: FetchLike = async (url, init) => {
      if (!new URL(url).pathname.startsWith("/kms/data")) return undiciFetch(url, init);
      return new Response(JSON.stringify({ code: "not_found", message: "Key not found" }), { status: 404 });
    };
    for (const call of [() => sdk(forging).kv.get("present"), () => sdk(forging).kv.delete("present")]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmsResponseVerificationError);
      expect((err as Error).message).toMatch(/without a valid x-kms-not-found-signature/);
    }
    // The node's genuine 404 for a path rewritten on the way proves only that the other key is absent.
    const rewriting: FetchLike = (url, init) => undiciFetch(url.replace("/kms/data/present", "/kms/data/gone"), init);
    await expect(sdk(rewriting).kv.get("present")).rejects.toBeInstanceOf(KmsResponseVerificationError);
    // The node's own 404s are proven.
    expect(await honest.kv.get("gone")).toBeUndefined();
    expect(await honest.kv.delete("gone")).toBe(false);
    expect(Buffer.from((await honest.kv.get("present"))!.value).toString()).toBe("value");
  });
});
