// The SDK's and the CLI's named keys, crypto operations and secrets (PROTOCOL.md §12) against two
// real nodes on a real anvil chain: every call goes through PoP, the envelope and the reply checks,
// and every cryptographic answer is checked with an independent implementation (viem, node:crypto).
import { createCipheriv, constants, createPublicKey, publicEncrypt, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { hashMessage, recoverAddress, recoverMessageAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KmsRegistryView } from "../../client/discovery.js";
import { KmsConflictError, KmsNotFoundError } from "../../client/errors.js";
import type { NovaKmsClient, NovaKmsClientOptions } from "../../client/nova-kms-client.js";
import { KmsHarness, isServing, waitFor, type RunningNode, type TestApp } from "../support/kms-harness.js";
import type { KeyMeldFile, KeyMeldUnsealConfig } from "../support/keymeld-unseal.js";

const SECRET = "33".repeat(32);

let harness: KmsHarness;
let nodeA: RunningNode;
let nodeB: RunningNode;
let app: TestApp;
/** The app's SimulatedTee seed: the KeyMeld process and the CLI take the same identity from it. */
const APP_SEED = `keys-sdk-app-${Date.now()}`;
let dir: string;

function client(overrides: Partial<NovaKmsClientOptions> = {}): NovaKmsClient {
  return harness.sdkClient(app.tee, overrides);
}

/** A fresh name per test, so tests share one app without stepping on each other. */
const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  harness = await KmsHarness.start();
  const env = { MASTER_SECRET_HEX: SECRET, RATE_LIMIT_PER_MINUTE: "0" };
  nodeA = await harness.startNode({ env });
  nodeB = await harness.startNode({ env });
  app = await harness.registerApp({ seed: APP_SEED });
  for (const n of [nodeA, nodeB]) await waitFor(() => isServing(n.url), 30_000, `${n.url} ready`);
  dir = mkdtempSync(path.join(tmpdir(), "nova-kms-keys-"));
});

afterAll(async () => {
  await harness?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("named keys through the SDK", () => {
  it("create → encrypt → decrypt → rotate: old ciphertexts still decrypt, new ones are version 2", async () => {
    const kms = client();
    const name = unique("orders");
    const created = await kms.keys.create({
      name,
      purpose: "encrypt",
      description: "order data",
      labels: { team: "a" },
    });
    expect(created).toMatchObject({ name, purpose: "encrypt", primaryVersion: 1, rotationPeriodDays: 30 });
    expect(created.nextRotationAtMs).toBeGreaterThan(Date.now());
    expect(await kms.keys.get(name)).toEqual(created);

    const v1 = await kms.keys.encrypt(name, "hello orders", { aad: "order-17" });
    expect(v1.version).toBe(1);
    expect(v1.ciphertext).toMatch(/^nkms1:/);
    const opened = await kms.keys.decrypt(v1.ciphertext, { aad: "order-17" });
    expect(Buffer.from(opened.plaintext).toString()).toBe("hello orders");
    expect(opened).toMatchObject({ key: name, version: 1 });
    // The AAD is bound: without it (or with another) nothing decrypts.
    expect(await failure(kms.keys.decrypt(v1.ciphertext))).toMatchObject({ status: 400 });
    expect(await failure(kms.keys.decrypt(v1.ciphertext, { aad: "order-18" }))).toMatchObject({ status: 400 });

    const rotated = await kms.keys.rotate(name);
    expect(rotated.primaryVersion).toBe(2);
    const v2 = await kms.keys.encrypt(name, new Uint8Array([0, 1, 2, 255]));
    expect(v2.version).toBe(2);
    expect(Buffer.from((await kms.keys.decrypt(v2.ciphertext)).plaintext)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(await kms.keys.decrypt(v1.ciphertext, { aad: "order-17" })).toMatchObject({ key: name, version: 1 });

    const versions = await kms.keys.versions(name);
    expect(versions.versions.map((v) => [v.version, v.state])).toEqual([
      [1, "ENABLED"],
      [2, "ENABLED"],
    ]);
    expect(await kms.keys.version(name, 2)).toMatchObject({ version: 2, state: "ENABLED" });

    // Re-encryption moves an old ciphertext to the primary version.
    const moved = await kms.keys.reencrypt(v1.ciphertext, { aad: "order-17" });
    expect(moved).toMatchObject({ key: name, version: 2 });
    expect(Buffer.from((await kms.keys.decrypt(moved.ciphertext, { aad: "order-17" })).plaintext).toString()).toBe(
      "hello orders",
    );
  });

  it("a ciphertext made on one node decrypts on the other", async () => {
    const name = unique("cross");
    const viaA = client();
    await viaA.keys.create({ name, purpose: "encrypt" });
    const { ciphertext } = await viaA.keys.encrypt(name, "made on A");
    const onlyB = client({ registry: preferring(nodeB.wallet), maxAttempts: 1 });
    expect(Buffer.from((await onlyB.keys.decrypt(ciphertext)).plaintext).toString()).toBe("made on A");
  });

  it("updates description, labels and rotation", async () => {
    const kms = client();
    const name = unique("upd");
    await kms.keys.create({ name, purpose: "mac" });
    const updated = await kms.keys.update(name, {
      description: "now described",
      labels: { env: "test" },
      rotationPeriodDays: 0,
    });
    expect(updated).toMatchObject({ description: "now described", labels: { env: "test" }, rotationPeriodDays: 0 });
    expect(updated.nextRotationAtMs).toBe(0);
  });

  it("lists keys in pages and follows the tokens", async () => {
    const kms = client();
    const prefix = unique("page");
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const name of names) await kms.keys.create({ name, purpose: "mac" });
    const first = await kms.keys.list({ pageSize: 1 });
    expect(first.keys).toHaveLength(1);
    expect(first.nextPageToken).toBeTruthy();
    const second = await kms.keys.list({ pageSize: 1, pageToken: first.nextPageToken! });
    expect(second.keys[0]!.name > first.keys[0]!.name).toBe(true);
    const all: string[] = [];
    for await (const key of kms.keys.listAll({ pageSize: 2 })) all.push(key.name);
    expect(all).toEqual(expect.arrayContaining(names));
    expect(new Set(all).size).toBe(all.length);
  });

  it("a data key decrypts back to itself; without plaintext only the sealed key comes", async () => {
    const kms = client();
    const name = unique("dk");
    await kms.keys.create({ name, purpose: "encrypt" });
    const dk = await kms.keys.dataKey(name);
    expect(dk.plaintext).toHaveLength(32);
    expect(Buffer.from((await kms.keys.decrypt(dk.ciphertext)).plaintext)).toEqual(Buffer.from(dk.plaintext!));
    const short = await kms.keys.dataKey(name, { bytes: 16, aad: "ctx", withPlaintext: false });
    expect(short.plaintext).toBeUndefined();
    expect((await kms.keys.decrypt(short.ciphertext, { aad: "ctx" })).plaintext).toHaveLength(16);
  });

  it("sign-secp256k1: an EIP-191 signature recovers to the key's address", async () => {
    const kms = client();
    const name = unique("wallet");
    await kms.keys.create({ name, purpose: "sign-secp256k1" });
    const { address, pem, version } = await kms.keys.publicKey(name);
    expect(version).toBe(1);
    expect(address).toMatch(/^0x[0-9a-f]{40}$/);
    expect(pem).toContain("BEGIN PUBLIC KEY");

    const message = "pay 1 ETH to bob";
    const signed = await kms.keys.sign(name, { message });
    const recovered = await recoverMessageAddress({ message, signature: `0x${signed.signature}` });
    expect(recovered.toLowerCase()).toBe(address);

    const digest = hashMessage("a digest signed as is");
    const byDigest = await kms.keys.sign(name, { digest });
    expect((await recoverAddress({ hash: digest, signature: `0x${byDigest.signature}` })).toLowerCase()).toBe(address);

    expect(await kms.keys.verify(name, { message }, signed.signature)).toBe(true);
    expect(await kms.keys.verify(name, { message: `${message}!` }, signed.signature)).toBe(false);
    expect(await kms.keys.verify(name, { digest }, `0x${byDigest.signature}`, { version: 1 })).toBe(true);
  });

  it.each([
    ["sign-p256", "sha256"],
    ["sign-ed25519", null],
  ] as const)("%s: node:crypto verifies the signature against the PEM", async (purpose, hash) => {
    const kms = client();
    const name = unique(purpose);
    await kms.keys.create({ name, purpose });
    const { pem, address } = await kms.keys.publicKey(name, { version: 1 });
    expect(address).toBeUndefined();
    const message = Buffer.from(`signed by ${purpose}`);
    const { signature } = await kms.keys.sign(name, { message });
    expect(verify(hash, message, createPublicKey(pem), Buffer.from(signature, "hex"))).toBe(true);
    expect(verify(hash, Buffer.from("other"), createPublicKey(pem), Buffer.from(signature, "hex"))).toBe(false);
    expect(await kms.keys.verify(name, { message }, signature)).toBe(true);
  });

  it("decrypt-rsa: what anyone encrypts to the public key, only the KMS decrypts", async () => {
    const kms = client();
    const name = unique("inbox");
    await kms.keys.create({ name, purpose: "decrypt-rsa" });
    const { pem, version } = await kms.keys.publicKey(name);
    const ciphertext = publicEncrypt(
      { key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      Buffer.from("for the KMS only"),
    );
    const plaintext = await kms.keys.decryptAsymmetric(name, version, ciphertext);
    expect(Buffer.from(plaintext).toString()).toBe("for the KMS only");
  });

  it("mac / verifyMac", async () => {
    const kms = client();
    const name = unique("mac");
    await kms.keys.create({ name, purpose: "mac" });
    const { mac, version } = await kms.keys.mac(name, "message to authenticate");
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(version).toBe(1);
    expect((await kms.keys.mac(name, "message to authenticate")).mac).toBe(mac);
    expect(await kms.keys.verifyMac(name, "message to authenticate", mac)).toBe(true);
    expect(await kms.keys.verifyMac(name, "message to authenticate", `0x${mac}`, { version: 1 })).toBe(true);
    expect(await kms.keys.verifyMac(name, "another message", mac)).toBe(false);
  });

  it("a disabled version refuses with KmsConflictError (409); enable brings it back", async () => {
    const kms = client();
    const name = unique("states");
    await kms.keys.create({ name, purpose: "encrypt" });
    const { ciphertext } = await kms.keys.encrypt(name, "v1 data");
    await kms.keys.rotate(name);

    const primary = await failure(kms.keys.disable(name, 2));
    expect(primary).toBeInstanceOf(KmsConflictError);

    expect(await kms.keys.disable(name, 1)).toMatchObject({ version: 1, state: "DISABLED" });
    const refused = await failure(kms.keys.decrypt(ciphertext));
    expect(refused).toBeInstanceOf(KmsConflictError);
    expect(refused).toMatchObject({ status: 409, code: "conflict" });
    expect((refused as Error).message).toMatch(/DISABLED/);
    // The same answer from the other node: the state change holds cluster-wide.
    const onB = await failure(client({ registry: preferring(nodeB.wallet), maxAttempts: 1 }).keys.decrypt(ciphertext));
    expect(onB).toBeInstanceOf(KmsConflictError);

    expect(await kms.keys.enable(name, 1)).toMatchObject({ state: "ENABLED" });
    expect(Buffer.from((await kms.keys.decrypt(ciphertext)).plaintext).toString()).toBe("v1 data");

    await kms.keys.disable(name, 1);
    const scheduled = await kms.keys.destroy(name, 1);
    expect(scheduled.state).toBe("DESTROY_SCHEDULED");
    expect(scheduled.destroyAtMs).toBeGreaterThan(Date.now());
    expect(await kms.keys.restore(name, 1)).toMatchObject({ version: 1, state: "DISABLED" });
  });

  it("a name that exists is a 409; a key that does not (or another app's) is a 404", async () => {
    const kms = client();
    const name = unique("dup");
    await kms.keys.create({ name, purpose: "mac" });
    expect(await failure(kms.keys.create({ name, purpose: "mac" }))).toBeInstanceOf(KmsConflictError);
    // A proven miss: the node signed it over this request and the name (KmsNotFoundError).
    expect(await failure(kms.keys.get(unique("absent")))).toBeInstanceOf(KmsNotFoundError);
    const other = await harness.registerApp();
    const stranger = client({ tee: other.tee });
    expect(await failure(stranger.keys.get(name))).toMatchObject({ status: 404 });
    expect(await failure(stranger.keys.encrypt(name, "x"))).toMatchObject({ status: 404 });
  });

  it("random bytes", async () => {
    const kms = client();
    const a = await kms.random(32);
    expect(a).toHaveLength(32);
    expect(Buffer.from(a)).not.toEqual(Buffer.from(await kms.random(32)));
    expect(await failure(kms.random(1025))).toMatchObject({ status: 400 });
  });
});

describe("secrets through the SDK", () => {
  it("each put is a version; get latest or one; list in pages; delete → 404", async () => {
    const kms = client();
    const name = unique("db-password");
    expect(await kms.secrets.put(name, "first")).toEqual({ name, version: 1 });
    expect(await kms.secrets.put(name, new Uint8Array([0, 255]))).toEqual({ name, version: 2 });
    const latest = await kms.secrets.get(name);
    expect(latest).toMatchObject({ name, version: 2 });
    expect(Buffer.from(latest.value)).toEqual(Buffer.from([0, 255]));
    const first = await kms.secrets.get(name, { version: 1 });
    expect(Buffer.from(first.value).toString()).toBe("first");
    expect(await failure(kms.secrets.get(name, { version: 3 }))).toMatchObject({ status: 404 });

    const others = [unique("s-a"), unique("s-b")];
    for (const other of others) await kms.secrets.put(other, "x");
    const page = await kms.secrets.list({ pageSize: 2 });
    expect(page.secrets).toHaveLength(2);
    expect(page.nextPageToken).toBeTruthy();
    const all = [];
    for await (const s of kms.secrets.listAll({ pageSize: 1 })) all.push(s);
    expect(all.map((s) => s.name)).toEqual(expect.arrayContaining([name, ...others]));
    expect(all.find((s) => s.name === name)).toMatchObject({ latestVersion: 2 });

    expect(await kms.secrets.delete(name)).toBe(true);
    const gone = await failure(kms.secrets.get(name));
    expect(gone).toBeInstanceOf(KmsNotFoundError);
    expect(gone).toMatchObject({ status: 404 });
    expect(await failure(kms.secrets.delete(name))).toMatchObject({ status: 404 });
  });
});

/** The registry with one node listed first; with maxAttempts 1 the client asks only that node. */
function preferring(wallet: string): KmsRegistryView {
  const reader = harness.chain.reader;
  return {
    getInstanceByWallet: (w) => reader.getInstanceByWallet(w),
    async getActiveInstances(appId) {
      const all = await reader.getActiveInstances(appId);
      return [...all.filter((w) => w === wallet), ...all.filter((w) => w !== wallet)];
    },
  };
}

describe("KeyMeld: an app seals its own key with a KMS data key, a new process unseals it", () => {
  it("the key unsealed through the other node signs for the same address", async () => {
    const kms = client();
    await kms.keys.create({ name: "sealer", purpose: "encrypt" });

    // The app's own secp256k1 key, made locally; the KMS never sees it.
    const privateKey = generatePrivateKey();
    const address = privateKeyToAccount(privateKey).address;
    const dataKey = await kms.keys.dataKey("sealer");
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", dataKey.plaintext!, iv);
    const sealedKey = Buffer.concat([cipher.update(Buffer.from(privateKey.slice(2), "hex")), cipher.final()]);
    const sealed: KeyMeldFile = {
      dataKeyCiphertext: dataKey.ciphertext,
      iv: iv.toString("hex"),
      sealedKey: sealedKey.toString("hex"),
      tag: cipher.getAuthTag().toString("hex"),
    };
    const file = path.join(dir, "keymeld.json");
    writeFileSync(file, JSON.stringify(sealed));

    const d = harness.chain.deployment;
    const message = "KeyMeld says hi";
    const config: KeyMeldUnsealConfig = {
      rpcUrl: d.rpcUrl,
      novaAppRegistry: d.novaAppRegistry,
      kmsRegistry: d.kmsRegistry,
      kmsAppId: d.kmsAppId.toString(),
      appSeed: APP_SEED,
      nodeWallet: nodeB.wallet,
      file,
      message,
    };
    const run = await execa("npx", ["tsx", "test/support/keymeld-unseal.ts", JSON.stringify(config)], {
      reject: false,
    });
    expect(run.stderr.replace(/npm warn.*\n?/g, "")).toBe("");
    expect(run.exitCode).toBe(0);
    const out = JSON.parse(run.stdout) as { address: string; signature: Hex };
    expect(out.address).toBe(address);
    expect(await recoverMessageAddress({ message, signature: out.signature })).toBe(address);
  });
});

describe("nova-kms CLI with named keys", () => {
  const cliArgs = () => [...harness.cliArgs(), "--app-seed", APP_SEED, "--allow-http"];
  const run = (args: string[], input?: string | Buffer) =>
    execa("npx", [...cliArgs(), ...args], {
      reject: false,
      encoding: "buffer",
      stripFinalNewline: false,
      ...(input ? { input } : {}),
    });

  it("pipes plaintext through encrypt and back through decrypt", async () => {
    const name = unique("cli");
    const created = await run(["keys", "create", name, "--purpose", "encrypt", "--label", "via=cli"]);
    expect(
      Buffer.from(created.stderr)
        .toString()
        .replace(/npm warn.*\n?/g, ""),
    ).toBe("");
    expect(created.exitCode).toBe(0);
    expect(JSON.parse(Buffer.from(created.stdout).toString())).toMatchObject({ name, labels: { via: "cli" } });

    const plaintext = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x41]);
    const encrypted = await run(["encrypt", name, "--aad", "file-1"], plaintext);
    expect(encrypted.exitCode).toBe(0);
    const ciphertext = Buffer.from(encrypted.stdout).toString();
    expect(ciphertext).toMatch(/^nkms1:\S+\n$/);

    const decrypted = await run(["decrypt", "--aad", "file-1"], ciphertext);
    expect(decrypted.exitCode).toBe(0);
    expect(Buffer.from(decrypted.stdout)).toEqual(plaintext);
    // Three CLI processes (each an npx + tsx start-up) take their time on a small machine.
  }, 120_000);
});
