// Named-key operations for several apps on one node (PROTOCOL.md §12) over the real store and a real
// single-member ClusterCommits: rotation keeps old ciphertexts readable, states gate use, apps are
// isolated, material is stored only wrapped, destroyed material is erased, scheduled rotation makes
// exactly one version. Ported from the KeyService tests of the old in-memory engine.
import { randomBytes } from "node:crypto";
import { type Hex, recoverAddress, recoverMessageAddress } from "viem";
import { describe, expect, it } from "vitest";
import { aesGcmDecrypt, aesGcmEncrypt } from "../../../enclave/crypto/aead.js";
import { KeyInputError } from "../../../enclave/keys/api.js";
import { CiphertextFormatError, encodeCiphertext } from "../../../enclave/protocol/named-key-ciphertext.js";
import { KeyStateError } from "../../../enclave/keys/key-lifecycle.js";
import { maintainKeys } from "../../../enclave/keys/key-maintenance.js";
import { reservedNamespaceOf } from "../../../enclave/keys/key-records.js";
import { KeyUsageError } from "../../../enclave/keys/named-keys.js";
import { DecryptFailedError } from "../../../enclave/keys/symmetric.js";
import { keyEncryptionKey, UnwrapError, unwrapMaterial } from "../../../enclave/keys/wrap.js";
import { createLogger } from "../../../enclave/log.js";
import { DAY_MS } from "../../../enclave/keys/key-lifecycle.js";
import { HOUR, KEY_MASTER, singleNode, text, thrown } from "./helpers.js";

const APP = 7n;
const OTHER_APP = 8n;
const aad = text("order-17");

async function stateKind(fn: () => unknown): Promise<string> {
  const e = await thrown(fn);
  expect(e).toBeInstanceOf(KeyStateError);
  return `${(e as KeyStateError).kind}: ${(e as Error).message}`;
}

describe("NamedKeys: lifecycle through the store", () => {
  it("creates a key (defaults by purpose), refuses a duplicate, a bad name or purpose, and reads it back", async () => {
    const { keys, clock } = singleNode();
    const created = await keys.create(APP, { name: "orders", purpose: "encrypt", labels: { env: "prod" } });
    expect(created).toEqual({
      name: "orders",
      purpose: "encrypt",
      primaryVersion: 1,
      rotationPeriodDays: 30,
      nextRotationAtMs: clock.t + 30 * DAY_MS,
      createdAtMs: clock.t,
      description: "",
      labels: { env: "prod" },
    });
    expect(await keys.get(APP, "orders")).toEqual(created);
    expect(await stateKind(() => keys.create(APP, { name: "orders", purpose: "mac" }))).toBe(
      "conflict: key orders already exists",
    );
    await expect(keys.create(APP, { name: "bad name", purpose: "mac" })).rejects.toThrow(KeyInputError);
    await expect(keys.create(APP, { name: "k", purpose: "nope" as never })).rejects.toThrow(KeyInputError);
    await expect(keys.create(APP, { name: "k", purpose: "mac", rotationPeriodDays: -1 })).rejects.toThrow(
      KeyInputError,
    );
    expect(await stateKind(() => keys.get(APP, "k"))).toBe("not_found: no key k");
    expect(await stateKind(() => keys.get(OTHER_APP, "orders"))).toBe("not_found: no key orders");
  });

  it("pages keys in name order, each exactly once, per app", async () => {
    const { keys } = singleNode();
    for (const name of ["e", "c", "a", "d", "b"]) await keys.create(APP, { name, purpose: "mac" });
    await keys.create(OTHER_APP, { name: "zz", purpose: "mac" });
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await keys.list(APP, 2, after);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((k) => k.name));
      if (page.nextAfter === undefined) break;
      after = page.nextAfter;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    expect((await keys.list(APP, 5)).nextAfter).toBeUndefined();
    expect((await keys.list(OTHER_APP, 100)).items.map((k) => k.name)).toEqual(["zz"]);
    expect((await keys.list(9n, 100)).items).toEqual([]);
  });

  it("rotate: old ciphertexts still decrypt, new ones use the new primary; disable → 409, enable → decrypts again", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "orders", purpose: "encrypt" });
    const v1 = await keys.encrypt(APP, "orders", text("old"), aad);
    expect(v1.version).toBe(1);
    expect((await keys.rotate(APP, "orders")).primaryVersion).toBe(2);
    const v2 = await keys.encrypt(APP, "orders", text("new"), aad);
    expect(v2.version).toBe(2);
    expect(await keys.decrypt(APP, v1.ciphertext, aad)).toEqual({ plaintext: text("old"), key: "orders", version: 1 });
    expect(await keys.decrypt(APP, v2.ciphertext, aad)).toEqual({ plaintext: text("new"), key: "orders", version: 2 });
    expect(await keys.changeVersion(APP, "orders", 1, "disable")).toMatchObject({ version: 1, state: "DISABLED" });
    expect(await stateKind(() => keys.decrypt(APP, v1.ciphertext, aad))).toBe("conflict: version 1 is DISABLED");
    expect(await keys.changeVersion(APP, "orders", 1, "enable")).toMatchObject({ version: 1, state: "ENABLED" });
    expect((await keys.decrypt(APP, v1.ciphertext, aad)).plaintext).toEqual(text("old"));
    expect(await stateKind(() => keys.changeVersion(APP, "orders", 2, "disable"))).toBe(
      "conflict: the primary version cannot be disabled",
    );
    expect(await stateKind(() => keys.changeVersion(APP, "orders", 3, "enable"))).toBe(
      "not_found: key orders has no version 3",
    );
    expect(await stateKind(() => keys.rotate(APP, "missing"))).toBe("not_found: no key missing");
  });

  it("moving the primary back makes the old version encrypt; versions page in order", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "k", purpose: "encrypt" });
    await keys.rotate(APP, "k");
    await keys.rotate(APP, "k");
    expect((await keys.update(APP, "k", { primaryVersion: 1, description: "d" })).primaryVersion).toBe(1);
    expect((await keys.encrypt(APP, "k", text("x"), aad)).version).toBe(1);
    expect((await keys.get(APP, "k")).description).toBe("d");
    const first = await keys.versions(APP, "k", 2);
    expect(first.items.map((v) => v.version)).toEqual([1, 2]);
    expect(first.nextAfter).toBe(2);
    const second = await keys.versions(APP, "k", 2, first.nextAfter);
    expect(second.items.map((v) => v.version)).toEqual([3]);
    expect(second.nextAfter).toBeUndefined();
    expect(await keys.version(APP, "k", 3)).toMatchObject({ version: 3, state: "ENABLED" });
    await keys.changeVersion(APP, "k", 3, "disable");
    expect(await stateKind(() => keys.update(APP, "k", { primaryVersion: 3 }))).toBe(
      "conflict: version 3 is DISABLED; only ENABLED can be primary",
    );
  });

  it("a no-op change writes nothing; a real change hands its change-log position to the commit", async () => {
    const { keys, store, replicatedCalls } = singleNode();
    await keys.create(APP, { name: "k", purpose: "encrypt" });
    expect(replicatedCalls).toEqual([[store.head, 0]]);
    const head = store.head;
    await keys.changeVersion(APP, "k", 1, "enable"); // already ENABLED
    expect(store.head).toBe(head);
    expect(replicatedCalls).toHaveLength(1);
    await keys.rotate(APP, "k"); // material + meta: two writes
    expect(store.head).toBe(head + 2);
    expect(replicatedCalls.at(-1)).toEqual([head + 2, 0]);
  });
});

describe("NamedKeys: apps and purposes", () => {
  it("isolates apps: another app's ciphertext names a key it does not have (404), and cannot open it anyway", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "shared-name", purpose: "encrypt" });
    const sealed = await keys.encrypt(APP, "shared-name", text("secret"), aad);
    expect(await stateKind(() => keys.decrypt(OTHER_APP, sealed.ciphertext, aad))).toBe(
      "not_found: no key shared-name",
    );
    // Even with a key of the same name, the other app's KEK and the AAD's app id keep it closed.
    await keys.create(OTHER_APP, { name: "shared-name", purpose: "encrypt" });
    await expect(keys.decrypt(OTHER_APP, sealed.ciphertext, aad)).rejects.toThrow(DecryptFailedError);
    await expect(keys.decrypt(APP, sealed.ciphertext, text("other aad"))).rejects.toThrow(DecryptFailedError);
    await expect(keys.decrypt(APP, `x${sealed.ciphertext}`, aad)).rejects.toThrow(CiphertextFormatError);
    expect((await keys.decrypt(APP, sealed.ciphertext, aad)).plaintext).toEqual(text("secret"));
  });

  it("data keys: the plaintext and its ciphertext open to the same bytes, and seal an enclave's secret (KeyMeld flow)", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "wallet-kek", purpose: "encrypt" });
    await keys.create(APP, { name: "signer", purpose: "sign-secp256k1" });
    const dk = await keys.dataKey(APP, "wallet-kek", 32, aad);
    expect(dk.plaintext).toHaveLength(32);
    expect(dk.version).toBe(1);
    // The app seals its own secret with the data key and keeps both ciphertexts.
    const nonce = new Uint8Array(randomBytes(12));
    const secret = text("enclave private key");
    const sealedSecret = aesGcmEncrypt(dk.plaintext, nonce, secret);
    // After a restart it holds only the ciphertexts: the KMS gives the data key back.
    const recovered = (await keys.decrypt(APP, dk.ciphertext, aad)).plaintext;
    expect(recovered).toEqual(dk.plaintext);
    expect(aesGcmDecrypt(recovered, nonce, sealedSecret)).toEqual(secret);
    // And signs for it with a key whose address it can publish.
    const signed = await keys.sign(APP, "signer", { message: secret });
    expect(signed.signature).toMatch(/^[0-9a-f]{130}$/);
    const { address } = await keys.publicKey(APP, "signer");
    const signer = await recoverMessageAddress({ message: { raw: secret }, signature: `0x${signed.signature}` as Hex });
    expect(signer.toLowerCase()).toBe(address);
    const digest = new Uint8Array(32).fill(9);
    const overDigest = await keys.sign(APP, "signer", { digest });
    const fromDigest = await recoverAddress({
      hash: `0x${Buffer.from(digest).toString("hex")}`,
      signature: `0x${overDigest.signature}`,
    });
    expect(fromDigest.toLowerCase()).toBe(address);
    expect((await keys.dataKey(APP, "wallet-kek", 16)).plaintext).toHaveLength(16);
    expect((await keys.dataKey(APP, "wallet-kek", 64)).plaintext).toHaveLength(64);
    expect((await keys.dataKey(APP, "wallet-kek")).plaintext).toHaveLength(32);
    for (const bytes of [8, 15, 65, 16.5]) {
      await expect(keys.dataKey(APP, "wallet-kek", bytes), String(bytes)).rejects.toThrow(KeyUsageError);
    }
  });

  it("signs, verifies, macs and re-encrypts only with keys of the right purpose", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "p256", purpose: "sign-p256" });
    await keys.create(APP, { name: "ed", purpose: "sign-ed25519" });
    await keys.create(APP, { name: "mac", purpose: "mac" });
    await keys.create(APP, { name: "a", purpose: "encrypt" });
    await keys.create(APP, { name: "b", purpose: "encrypt" });
    const m = { message: text("m") };
    const { signature, version } = await keys.sign(APP, "p256", m);
    expect(version).toBe(1);
    expect(await keys.verify(APP, "p256", m, signature)).toBe(true);
    expect(await keys.verify(APP, "p256", { message: text("n") }, signature)).toBe(false);
    expect((await keys.publicKey(APP, "p256")).pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const ed = await keys.sign(APP, "ed", m);
    expect(await keys.verify(APP, "ed", m, ed.signature)).toBe(true);
    expect(await keys.verify(APP, "p256", m, ed.signature)).toBe(false);
    const { mac } = await keys.mac(APP, "mac", text("m"));
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(await keys.verifyMac(APP, "mac", text("m"), mac)).toBe(true);
    expect(await keys.verifyMac(APP, "mac", text("n"), mac)).toBe(false);
    // Wrong purpose → KeyUsageError (400), before any material is touched.
    await expect(keys.encrypt(APP, "p256", text("x"), aad)).rejects.toThrow(KeyUsageError);
    await expect(keys.sign(APP, "a", m)).rejects.toThrow(KeyUsageError);
    await expect(keys.sign(APP, "mac", m)).rejects.toThrow(KeyUsageError);
    await expect(keys.verify(APP, "mac", m, mac)).rejects.toThrow(KeyUsageError);
    await expect(keys.mac(APP, "a", text("m"))).rejects.toThrow(KeyUsageError);
    await expect(keys.verifyMac(APP, "p256", text("m"), mac)).rejects.toThrow(KeyUsageError);
    await expect(keys.publicKey(APP, "mac")).rejects.toThrow(KeyUsageError);
    await expect(keys.publicKey(APP, "a")).rejects.toThrow(KeyUsageError);
    await expect(keys.decryptAsymmetric(APP, "a", 1, new Uint8Array(384))).rejects.toThrow(KeyUsageError);
    // A ciphertext that names a non-encrypt key.
    const forged = encodeCiphertext({
      keyName: "mac",
      version: 1,
      nonce: new Uint8Array(12),
      sealed: new Uint8Array(32),
    });
    await expect(keys.decrypt(APP, forged, aad)).rejects.toThrow(KeyUsageError);
    // Re-encryption: to another key, or (default) to the same key's current primary.
    const sealed = await keys.encrypt(APP, "a", text("move me"), aad);
    const moved = await keys.reencrypt(APP, sealed.ciphertext, aad, "b");
    expect(moved).toMatchObject({ key: "b", version: 1 });
    expect((await keys.decrypt(APP, moved.ciphertext, aad)).plaintext).toEqual(text("move me"));
    await keys.rotate(APP, "a");
    const same = await keys.reencrypt(APP, sealed.ciphertext, aad);
    expect(same).toMatchObject({ key: "a", version: 2 });
    expect(await keys.decrypt(APP, same.ciphertext, aad)).toEqual({ plaintext: text("move me"), key: "a", version: 2 });
    await expect(keys.reencrypt(APP, sealed.ciphertext, aad, "p256")).rejects.toThrow(KeyUsageError);
    // Size limits and random bytes.
    await expect(keys.encrypt(APP, "a", new Uint8Array(64 * 1024 + 1), aad)).rejects.toThrow(KeyUsageError);
    expect((await keys.encrypt(APP, "a", new Uint8Array(64 * 1024), aad)).version).toBe(2);
    for (const bytes of [0, 1025, 1.5]) await expect(keys.random(bytes)).rejects.toThrow(KeyUsageError);
    expect(await keys.random(1)).toHaveLength(1);
    expect(await keys.random(1024)).toHaveLength(1024);
  });

  it("verifies with a named version after rotation; only the primary signs", async () => {
    const { keys } = singleNode();
    await keys.create(APP, { name: "s", purpose: "sign-p256" });
    const m = { message: text("m") };
    const old = await keys.sign(APP, "s", m);
    await keys.rotate(APP, "s");
    const fresh = await keys.sign(APP, "s", m);
    expect(fresh.version).toBe(2);
    expect(await keys.verify(APP, "s", m, old.signature, 1)).toBe(true);
    expect(await keys.verify(APP, "s", m, old.signature)).toBe(false); // the primary (2) did not make it
    expect(await keys.verify(APP, "s", m, fresh.signature)).toBe(true);
    expect((await keys.publicKey(APP, "s", 1)).pem).not.toBe((await keys.publicKey(APP, "s")).pem);
    await keys.changeVersion(APP, "s", 1, "disable");
    expect(await stateKind(() => keys.verify(APP, "s", m, old.signature, 1))).toBe("conflict: version 1 is DISABLED");
  });
});

describe("NamedKeys: material at rest", () => {
  it("stores material only wrapped, under the app-and-key KEK, bound to its version", async () => {
    // A random source whose output the test knows: an encrypt key's material is exactly its 32 bytes.
    const known = new Uint8Array(32).map((_, i) => 0xa0 + i);
    const { keys, store } = singleNode({ random: async (n) => known.slice(0, n) });
    await keys.create(APP, { name: "k", purpose: "encrypt" });
    const raw = store.get(reservedNamespaceOf(APP), "key/k/v/1")?.value;
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(raw!.length).toBe(12 + 32 + 16); // nonce ‖ ciphertext ‖ tag
    expect(Buffer.from(raw!).includes(Buffer.from(known.subarray(0, 8)))).toBe(false);
    const ref = { appId: APP, keyName: "k", version: 1 };
    expect(unwrapMaterial(keyEncryptionKey(KEY_MASTER, APP, "k"), ref, raw!)).toEqual(known);
    expect(() => unwrapMaterial(keyEncryptionKey(new Uint8Array(32), APP, "k"), ref, raw!)).toThrow(UnwrapError);
    expect(() => unwrapMaterial(keyEncryptionKey(KEY_MASTER, OTHER_APP, "k"), ref, raw!)).toThrow(UnwrapError);
    expect(() => unwrapMaterial(keyEncryptionKey(KEY_MASTER, APP, "k2"), ref, raw!)).toThrow(UnwrapError);
    expect(() => unwrapMaterial(keyEncryptionKey(KEY_MASTER, APP, "k"), { ...ref, version: 2 }, raw!)).toThrow(
      UnwrapError,
    );
    // The key's metadata record carries no material either, and the app's own namespace holds nothing.
    const meta = new TextDecoder().decode(store.get(reservedNamespaceOf(APP), "key/k/meta")!.value);
    expect(JSON.parse(meta)).toMatchObject({
      name: "k",
      primaryVersion: 1,
      versions: [{ version: 1, state: "ENABLED" }],
    });
    expect(store.keys(reservedNamespaceOf(APP))).toEqual(["key/k/meta", "key/k/v/1"]);
    expect(store.keys(APP)).toEqual([]);
  });

  it("destroy → 409 at once, restore → usable after enable; past the delay DESTROYED, erased, and 409 for good", async () => {
    const { keys, store, records, clock } = singleNode({ destroyDelayMs: HOUR });
    await keys.create(APP, { name: "k", purpose: "encrypt" });
    const old = await keys.encrypt(APP, "k", text("x"), aad);
    await keys.rotate(APP, "k");
    const newer = await keys.encrypt(APP, "k", text("y"), aad);
    const scheduledAt = clock.t;
    expect(await keys.changeVersion(APP, "k", 1, "destroy")).toEqual({
      version: 1,
      state: "DESTROY_SCHEDULED",
      createdAtMs: expect.any(Number),
      destroyAtMs: scheduledAt + HOUR,
    });
    expect(await stateKind(() => keys.decrypt(APP, old.ciphertext, aad))).toBe(
      "conflict: version 1 is DESTROY_SCHEDULED",
    );
    expect(await keys.changeVersion(APP, "k", 1, "restore")).toMatchObject({ state: "DISABLED" });
    await keys.changeVersion(APP, "k", 1, "enable");
    expect((await keys.decrypt(APP, old.ciphertext, aad)).plaintext).toEqual(text("x"));
    await keys.changeVersion(APP, "k", 1, "destroy");
    const destroyAt = clock.t + HOUR;
    // Not due yet: nothing to erase, nothing written.
    clock.advance(HOUR - 1);
    const head = store.head;
    expect(await keys.eraseDestroyed(APP, "k")).toBe(0);
    expect(store.head).toBe(head);
    // At the destroy time every read treats it as DESTROYED, before any erasure.
    clock.advance(1);
    expect(await keys.version(APP, "k", 1)).toMatchObject({ state: "DESTROYED", destroyedAtMs: destroyAt });
    expect(records.readKey(APP, "k")!.versions[0]!.state).toBe("DESTROY_SCHEDULED");
    expect(await stateKind(() => keys.decrypt(APP, old.ciphertext, aad))).toBe("conflict: version 1 is DESTROYED");
    // Erasure: the material record becomes a tombstone; the metadata says DESTROYED for good.
    const ns = reservedNamespaceOf(APP);
    expect(store.get(ns, "key/k/v/1")).toBeDefined();
    expect(await keys.eraseDestroyed(APP, "k")).toBe(1);
    expect(store.get(ns, "key/k/v/1")).toBeUndefined();
    expect(store.holdsKey(ns, "key/k/v/1")).toBe(true);
    expect(store.appStats(ns).tombstones).toBe(1);
    expect(records.hasMaterial(APP, "k", 1)).toBe(false);
    expect(records.hasMaterial(APP, "k", 2)).toBe(true);
    expect(records.readKey(APP, "k")!.versions[0]).toEqual({
      version: 1,
      state: "DESTROYED",
      createdAtMs: expect.any(Number),
      destroyedAtMs: destroyAt,
    });
    expect(await keys.eraseDestroyed(APP, "k")).toBe(0);
    expect(await stateKind(() => keys.decrypt(APP, old.ciphertext, aad))).toBe("conflict: version 1 is DESTROYED");
    for (const action of ["enable", "restore", "destroy", "disable"] as const) {
      expect(await stateKind(() => keys.changeVersion(APP, "k", 1, action))).toBe("conflict: version 1 is DESTROYED");
    }
    expect((await keys.decrypt(APP, newer.ciphertext, aad)).plaintext).toEqual(text("y"));
    expect(await keys.eraseDestroyed(APP, "missing")).toBe(0);
  });
});

describe("NamedKeys: scheduled rotation", () => {
  it("rotateIfDue rotates once when due, and returns false (writing nothing) when not due or manual", async () => {
    const { keys, store, clock } = singleNode();
    await keys.create(APP, { name: "auto", purpose: "encrypt", rotationPeriodDays: 1 });
    await keys.create(APP, { name: "manual", purpose: "encrypt", rotationPeriodDays: 0 });
    const created = clock.t;
    clock.advance(DAY_MS - 1);
    const head = store.head;
    expect(await keys.rotateIfDue(APP, "auto")).toBe(false);
    expect(await keys.rotateIfDue(APP, "manual")).toBe(false);
    expect(await keys.rotateIfDue(APP, "missing")).toBe(false);
    expect(store.head).toBe(head);
    clock.advance(1);
    expect(await keys.rotateIfDue(APP, "auto")).toBe(true);
    expect(await keys.rotateIfDue(APP, "auto")).toBe(false);
    const key = await keys.get(APP, "auto");
    expect(key).toMatchObject({ primaryVersion: 2, nextRotationAtMs: created + 2 * DAY_MS });
    expect((await keys.versions(APP, "auto", 10)).items.map((v) => v.version)).toEqual([1, 2]);
    expect((await keys.encrypt(APP, "auto", text("x"), aad)).version).toBe(2);
  });

  it("maintainKeys rotates a due key exactly once over several runs, per app, and again a period later", async () => {
    const { keys, records, clock } = singleNode();
    await keys.create(APP, { name: "auto", purpose: "encrypt", rotationPeriodDays: 1 });
    await keys.create(APP, { name: "manual", purpose: "mac" });
    await keys.create(OTHER_APP, { name: "slow", purpose: "encrypt", rotationPeriodDays: 2 });
    const run = () =>
      maintainKeys({
        keys,
        records,
        preferred: () => true,
        intervalMs: 60_000,
        log: createLogger("silent"),
        now: clock.now,
      });
    expect(await run()).toEqual({ rotated: 0, erased: 0, failed: 0 });
    clock.advance(DAY_MS);
    expect(await run()).toEqual({ rotated: 1, erased: 0, failed: 0 });
    expect(await run()).toEqual({ rotated: 0, erased: 0, failed: 0 });
    expect(await run()).toEqual({ rotated: 0, erased: 0, failed: 0 });
    expect((await keys.get(APP, "auto")).primaryVersion).toBe(2);
    expect((await keys.get(APP, "manual")).primaryVersion).toBe(1);
    expect((await keys.get(OTHER_APP, "slow")).primaryVersion).toBe(1);
    clock.advance(DAY_MS);
    expect(await run()).toEqual({ rotated: 2, erased: 0, failed: 0 });
    expect(await run()).toEqual({ rotated: 0, erased: 0, failed: 0 });
    expect((await keys.versions(APP, "auto", 10)).items.map((v) => v.version)).toEqual([1, 2, 3]);
    expect((await keys.versions(OTHER_APP, "slow", 10)).items.map((v) => v.version)).toEqual([1, 2]);
  });

  it("maintainKeys: a non-preferred node waits three intervals past due; erasure of destroyed versions is counted", async () => {
    const { keys, records, clock } = singleNode({ destroyDelayMs: HOUR });
    await keys.create(APP, { name: "k", purpose: "encrypt", rotationPeriodDays: 1 });
    const interval = 60_000;
    const run = (preferred: boolean) =>
      maintainKeys({
        keys,
        records,
        preferred: () => preferred,
        intervalMs: interval,
        log: createLogger("silent"),
        now: clock.now,
      });
    clock.advance(DAY_MS + 3 * interval - 1);
    expect(await run(false)).toEqual({ rotated: 0, erased: 0, failed: 0 });
    clock.advance(1);
    expect(await run(false)).toEqual({ rotated: 1, erased: 0, failed: 0 });
    await keys.changeVersion(APP, "k", 1, "destroy");
    clock.advance(HOUR);
    expect(await run(true)).toEqual({ rotated: 0, erased: 1, failed: 0 });
    expect(await run(true)).toEqual({ rotated: 0, erased: 0, failed: 0 });
    expect(records.hasMaterial(APP, "k", 1)).toBe(false);
  });

  it("maintainKeys counts a failing key and goes on with the others", async () => {
    const { keys, records, clock } = singleNode();
    await keys.create(APP, { name: "a", purpose: "encrypt", rotationPeriodDays: 1 });
    await keys.create(APP, { name: "b", purpose: "encrypt", rotationPeriodDays: 1 });
    clock.advance(DAY_MS);
    const outcome = await maintainKeys({
      keys: {
        rotateIfDue: async (appId, name) => {
          if (name === "a") throw new Error("lease refused");
          return keys.rotateIfDue(appId, name);
        },
        eraseDestroyed: (appId, name) => keys.eraseDestroyed(appId, name),
      },
      records,
      preferred: () => true,
      intervalMs: 60_000,
      log: createLogger("silent"),
      now: clock.now,
    });
    expect(outcome).toEqual({ rotated: 1, erased: 0, failed: 1 });
    expect((await keys.get(APP, "a")).primaryVersion).toBe(1);
    expect((await keys.get(APP, "b")).primaryVersion).toBe(2);
  });
});
