// PROTOCOL.md §12 over HTTP on one real node on a real chain: the conformance list of the named-key
// issue (create/get/list paging, update, rotate, primary, states, destroy/restore, crypto per
// purpose checked by independent verifiers, data keys, secrets, isolation, bad input → 400).
import { createPublicKey, createVerify, verify as nodeVerify, publicEncrypt, constants } from "node:crypto";
import { recoverMessageAddress, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KmsHarness, isServing, waitFor, type TestApp } from "../../support/kms-harness.js";
import { appRequest, type NodeTarget } from "../../support/app-request.js";
import { OPERATIONS, type LookupOperation } from "../../../enclave/protocol/operations.js";
import { NOT_FOUND_SIGNATURE_HEADER, provesNotFound } from "../../../enclave/protocol/reply-binding.js";

let harness: KmsHarness;
let target: NodeTarget;
let app: TestApp;
let other: TestApp;

const b64 = (v: string | Uint8Array) => Buffer.from(v).toString("base64");
const call = (
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  caller: TestApp = app,
) => appRequest(target, caller.tee, { method, path, body });

beforeAll(async () => {
  harness = await KmsHarness.start();
  const node = await harness.startNode({
    env: { MASTER_SECRET_HEX: "33".repeat(32), KEY_DESTROY_DELAY_HOURS: String(1.5 / 3600) },
  });
  await waitFor(() => isServing(node.url), 20_000, "node ready");
  target = { url: node.url, wallet: node.wallet, teePublicKey: node.node.teePublicKey };
  app = await harness.registerApp();
  other = await harness.registerApp();
});

afterAll(async () => {
  await harness?.stop();
});

describe("named keys over HTTP", () => {
  it("create, get, duplicate → 409, list pages every key exactly once, update", async () => {
    for (const name of ["k5", "k4", "k3", "k2", "k1"]) {
      const made = await call("POST", "/kms/keys", { name, purpose: "encrypt", labels: { team: "a" } });
      expect(made.status).toBe(200);
    }
    const got = await call("GET", "/kms/keys/k1");
    expect(got.json).toMatchObject({ name: "k1", purpose: "encrypt", primary_version: 1, rotation_period_days: 30 });
    expect(got.json.next_rotation_at_ms - got.json.created_at_ms).toBe(30 * 24 * 3600 * 1000);
    expect((await call("POST", "/kms/keys", { name: "k1", purpose: "mac" })).status).toBe(409);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call("GET", `/kms/keys?page_size=2${token ? `&page_token=${token}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.json.keys.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.keys.map((k: { name: string }) => k.name));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual(["k1", "k2", "k3", "k4", "k5"]);
    const patched = await call("PATCH", "/kms/keys/k1", { description: "orders", rotation_period_days: 0 });
    expect(patched.json).toMatchObject({ description: "orders", rotation_period_days: 0, next_rotation_at_ms: 0 });
  });

  it("rotate: old ciphertext decrypts, new uses version 2; primary moves back; disable → 409; enable works", async () => {
    await call("POST", "/kms/keys", { name: "orders", purpose: "encrypt" });
    const aad = b64("order-1");
    const c1 = await call("POST", "/kms/keys/orders/encrypt", { plaintext: b64("hello"), aad });
    expect(c1.json.version).toBe(1);
    expect(c1.json.ciphertext).toMatch(/^nkms1:/);
    const rotated = await call("POST", "/kms/keys/orders/rotate", {});
    expect(rotated.json.primary_version).toBe(2);
    const c2 = await call("POST", "/kms/keys/orders/encrypt", { plaintext: b64("again"), aad });
    expect(c2.json.version).toBe(2);
    const d1 = await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext, aad });
    expect(d1.json).toMatchObject({ plaintext: b64("hello"), key: "orders", version: 1 });
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext, aad: b64("x") })).status).toBe(400);
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext })).status).toBe(400);
    const flipped = `${c1.json.ciphertext.slice(0, -3)}${c1.json.ciphertext.at(-3) === "A" ? "B" : "A"}${c1.json.ciphertext.slice(-2)}`;
    expect((await call("POST", "/kms/decrypt", { ciphertext: flipped, aad })).status).toBe(400);
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext.slice(0, 20), aad })).status).toBe(400);
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext, aad }, other)).status).toBe(404);

    expect((await call("POST", "/kms/keys/orders/versions/2/disable", {})).status).toBe(409); // primary
    const disabled = await call("POST", "/kms/keys/orders/versions/1/disable", {});
    expect(disabled.json).toMatchObject({ version: 1, state: "DISABLED" });
    const refused = await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext, aad });
    expect(refused.status).toBe(409);
    expect((refused.raw as { message: string }).message).toContain("DISABLED");
    expect((await call("PATCH", "/kms/keys/orders", { primary_version: 1 })).status).toBe(409);
    await call("POST", "/kms/keys/orders/versions/1/enable", {});
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext, aad })).status).toBe(200);
    const back = await call("PATCH", "/kms/keys/orders", { primary_version: 1 });
    expect(back.json.primary_version).toBe(1);
    expect((await call("POST", "/kms/keys/orders/encrypt", { plaintext: b64("x") })).json.version).toBe(1);
    const re = await call("POST", "/kms/reencrypt", { ciphertext: c2.json.ciphertext, aad });
    expect(re.json).toMatchObject({ key: "orders", version: 1 });
  });

  it("destroy → DESTROY_SCHEDULED, restore → DISABLED; after the delay DESTROYED and 409 forever", async () => {
    await call("POST", "/kms/keys", { name: "old", purpose: "encrypt" });
    const c1 = await call("POST", "/kms/keys/old/encrypt", { plaintext: b64("v1") });
    await call("POST", "/kms/keys/old/rotate", {});
    expect((await call("POST", "/kms/keys/old/versions/2/destroy", {})).status).toBe(409); // primary
    const scheduled = await call("POST", "/kms/keys/old/versions/1/destroy", {});
    expect(scheduled.json.state).toBe("DESTROY_SCHEDULED");
    expect(scheduled.json.destroy_at_ms).toBeGreaterThan(Date.now());
    const restored = await call("POST", "/kms/keys/old/versions/1/restore", {});
    expect(restored.json).toMatchObject({ version: 1, state: "DISABLED" });
    expect(restored.json.destroy_at_ms).toBeUndefined();
    const scheduledAgain = await call("POST", "/kms/keys/old/versions/1/destroy", {});
    // Destroyed from destroy_at_ms on (1.5 s here), by the node's own clock.
    await waitFor(
      async () => (await call("GET", "/kms/keys/old/versions/1")).json.state === "DESTROYED",
      10_000,
      "version 1 destroyed",
    );
    const destroyed = await call("GET", "/kms/keys/old/versions/1");
    expect(destroyed.json.destroyed_at_ms).toBeGreaterThanOrEqual(scheduledAgain.json.destroy_at_ms);
    expect((await call("POST", "/kms/decrypt", { ciphertext: c1.json.ciphertext })).status).toBe(409);
    expect((await call("POST", "/kms/keys/old/versions/1/restore", {})).status).toBe(409);
    expect((await call("POST", "/kms/keys/old/versions/1/enable", {})).status).toBe(409);
  });

  it("signs with every curve, checked by independent verifiers; mac; RSA-OAEP; public keys", async () => {
    await call("POST", "/kms/keys", { name: "eth", purpose: "sign-secp256k1" });
    const pub = await call("GET", "/kms/keys/eth/public_key");
    expect(pub.json.address).toMatch(/^0x[0-9a-f]{40}$/);
    const sig = await call("POST", "/kms/keys/eth/sign", { message: b64("hello") });
    const signer = await recoverMessageAddress({ message: "hello", signature: `0x${sig.json.signature}` as Hex });
    expect(signer.toLowerCase()).toBe(pub.json.address);
    expect(
      (await call("POST", "/kms/keys/eth/verify", { message: b64("hello"), signature: sig.json.signature })).json.valid,
    ).toBe(true);
    expect(
      (await call("POST", "/kms/keys/eth/verify", { message: b64("hellO"), signature: sig.json.signature })).json.valid,
    ).toBe(false);

    for (const purpose of ["sign-p256", "sign-ed25519"] as const) {
      await call("POST", "/kms/keys", { name: purpose, purpose });
      const key = createPublicKey((await call("GET", `/kms/keys/${purpose}/public_key`)).json.pem);
      const s = await call("POST", `/kms/keys/${purpose}/sign`, { message: b64("payload") });
      const ok = nodeVerify(
        purpose === "sign-p256" ? "sha256" : null,
        Buffer.from("payload"),
        key,
        Buffer.from(s.json.signature, "hex"),
      );
      expect(ok).toBe(true);
    }
    expect((await call("POST", "/kms/keys/sign-ed25519/sign", { digest: "00".repeat(32) })).status).toBe(400);

    await call("POST", "/kms/keys", { name: "hmac", purpose: "mac" });
    const mac = await call("POST", "/kms/keys/hmac/mac", { message: b64("m") });
    expect(mac.json.mac).toMatch(/^[0-9a-f]{64}$/);
    expect((await call("POST", "/kms/keys/hmac/verify_mac", { message: b64("m"), mac: mac.json.mac })).json.valid).toBe(
      true,
    );
    expect((await call("POST", "/kms/keys/hmac/verify_mac", { message: b64("n"), mac: mac.json.mac })).json.valid).toBe(
      false,
    );
    expect((await call("POST", "/kms/keys/hmac/encrypt", { plaintext: b64("x") })).status).toBe(400);

    await call("POST", "/kms/keys", { name: "rsa", purpose: "decrypt-rsa" });
    const rsaPem = (await call("GET", "/kms/keys/rsa/public_key")).json.pem;
    const sealed = publicEncrypt(
      { key: rsaPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      Buffer.from("top"),
    );
    const opened = await call("POST", "/kms/keys/rsa/decrypt_asymmetric", { ciphertext: b64(sealed), version: 1 });
    expect(opened.json.plaintext).toBe(b64("top"));
    void createVerify;
  });

  it("data keys round trip; random; secrets are versioned, paged and deleted; other apps see 404", async () => {
    await call("POST", "/kms/keys", { name: "dek", purpose: "encrypt" });
    const dk = await call("POST", "/kms/keys/dek/datakey", { bytes: 32 });
    expect(Buffer.from(dk.json.plaintext, "base64")).toHaveLength(32);
    const back = await call("POST", "/kms/decrypt", { ciphertext: dk.json.ciphertext });
    expect(back.json.plaintext).toBe(dk.json.plaintext);
    const noPlain = await call("POST", "/kms/keys/dek/datakey", { with_plaintext: false });
    expect(noPlain.json.plaintext).toBeUndefined();
    expect(Buffer.from((await call("POST", "/kms/random", { bytes: 48 })).json.random, "base64")).toHaveLength(48);

    expect((await call("PUT", "/kms/secrets/db", { value: b64("one") })).json).toMatchObject({
      name: "db",
      version: 1,
    });
    expect((await call("PUT", "/kms/secrets/db", { value: b64("two") })).json.version).toBe(2);
    expect((await call("GET", "/kms/secrets/db")).json).toMatchObject({ version: 2, value: b64("two") });
    expect((await call("GET", "/kms/secrets/db?version=1")).json.value).toBe(b64("one"));
    expect((await call("GET", "/kms/secrets/db", undefined, other)).status).toBe(404);
    await call("PUT", "/kms/secrets/api", { value: b64("k") });
    const first = await call("GET", "/kms/secrets?page_size=1");
    expect(first.json.secrets).toEqual([{ name: "api", latest_version: 1, updated_at_ms: expect.any(Number) }]);
    const second = await call("GET", `/kms/secrets?page_size=1&page_token=${first.json.next_page_token}`);
    expect(second.json.secrets[0]).toMatchObject({ name: "db", latest_version: 2 });
    expect((await call("DELETE", "/kms/secrets/db")).json).toMatchObject({ name: "db", deleted: true });
    expect((await call("GET", "/kms/secrets/db")).status).toBe(404);
    expect((await call("DELETE", "/kms/secrets/db")).status).toBe(404);
  });

  it("a 64 KiB plaintext and a 64 KiB secret fit (PROTOCOL §12 body limit)", async () => {
    const big = new Uint8Array(64 * 1024).fill(7);
    await call("POST", "/kms/keys", { name: "big", purpose: "encrypt" });
    const sealed = await call("POST", "/kms/keys/big/encrypt", { plaintext: b64(big) });
    expect(sealed.status).toBe(200);
    expect((await call("POST", "/kms/decrypt", { ciphertext: sealed.json.ciphertext })).json.plaintext).toBe(b64(big));
    expect((await call("PUT", "/kms/secrets/big", { value: b64(big) })).status).toBe(200);
    expect((await call("GET", "/kms/secrets/big")).json.value).toBe(b64(big));
  });

  it("bad input → 400 and changes nothing", async () => {
    expect((await call("POST", "/kms/keys", { name: "bad name", purpose: "encrypt" })).status).toBe(400);
    expect((await call("POST", "/kms/keys", { name: "x", purpose: "quantum" })).status).toBe(400);
    expect((await call("POST", "/kms/keys", { name: "..", purpose: "encrypt" })).status).toBe(400);
    expect((await call("PUT", "/kms/secrets/.", { value: "" })).status).toBe(404); // a dot segment: no such route
    expect((await call("POST", "/kms/keys", { name: "x", purpose: "encrypt", extra: 1 })).status).toBe(400);
    expect((await call("GET", "/kms/keys/x")).status).toBe(404);
    expect((await call("GET", "/kms/keys?page_size=0")).status).toBe(400);
    expect((await call("GET", "/kms/keys?page_token=***")).status).toBe(400);
    expect((await call("POST", "/kms/random", { bytes: 2000 })).status).toBe(400);
    expect((await call("POST", "/kms/keys/k1/encrypt", { plaintext: "not base64!" })).status).toBe(400);
    expect((await call("POST", "/kms/keys/k1/encrypt", { plaintext: b64(new Uint8Array(64 * 1024 + 1)) })).status).toBe(
      400,
    );
    expect((await call("POST", "/kms/decrypt", { ciphertext: "nkms1:@@@" })).status).toBe(400);
    expect((await call("PUT", "/kms/secrets/s", { value: b64(new Uint8Array(64 * 1024 + 1)) })).status).toBe(400);
  });

  it("a miss is a 404 the node signs over the request and the name; another app's key looks the same", async () => {
    const check = (res: Awaited<ReturnType<typeof call>>, operation: LookupOperation, name: string) =>
      provesNotFound(
        { requestSignature: res.sentSignature!, nodeWallet: target.wallet, operation, key: name },
        res.headers.get(NOT_FOUND_SIGNATURE_HEADER) ?? undefined,
      );
    const absent = await call("GET", "/kms/keys/nothing-here");
    expect(absent.status).toBe(404);
    expect(check(absent, OPERATIONS.keysLookup, "nothing-here")).toBe(true);
    expect(check(absent, OPERATIONS.keysLookup, "something-else")).toBe(false);
    expect(check(absent, OPERATIONS.secretsLookup, "nothing-here")).toBe(false);
    const otherApps = await call("POST", "/kms/keys/orders/encrypt", { plaintext: b64("x") }, other);
    expect(otherApps.status).toBe(404);
    expect(check(otherApps, OPERATIONS.keysLookup, "orders")).toBe(true);
    const noVersion = await call("GET", "/kms/keys/orders/versions/99");
    expect(check(noVersion, OPERATIONS.keysLookup, "orders")).toBe(true);
    const secret = await call("GET", "/kms/secrets/never-put");
    expect(check(secret, OPERATIONS.secretsLookup, "never-put")).toBe(true);
    // A route that does not exist is not a proven miss.
    const noRoute = await call("GET", "/kms/keys/orders/nonsense");
    expect(noRoute.status).toBe(404);
    expect(noRoute.headers.get(NOT_FOUND_SIGNATURE_HEADER)).toBeNull();
  });
});
