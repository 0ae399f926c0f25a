// Named-key operations for several apps on one node (PROTOCOL.md §12): rotation keeps old
// ciphertexts readable, states gate use, apps are isolated, material stays wrapped.
import { randomBytes } from "node:crypto";
import { recoverMessageAddress, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { aesGcmDecrypt, aesGcmEncrypt } from "../../../enclave/crypto/aead.js";
import { DecryptFailedError } from "../../../enclave/keys/symmetric.js";
import { KeyStateError } from "../../../enclave/keys/key-ring.js";
import { KeyService, KeyUsageError } from "../../../enclave/keys/key-service.js";
import { keyEncryptionKey, UnwrapError, unwrapMaterial } from "../../../enclave/keys/wrap.js";

const MASTER = new Uint8Array(32).fill(3);
const APP = 7n;
const OTHER_APP = 8n;
const text = (s: string) => new TextEncoder().encode(s);
const aad = text("order-17");

function service() {
  let now = 1_000_000;
  const keys = new KeyService({
    masterSecret: () => MASTER,
    random: async (n) => new Uint8Array(randomBytes(n)),
    now: () => now,
    destroyDelayMs: 3_600_000,
  });
  return { keys, advance: (ms: number) => (now += ms) };
}

const kind = (e: unknown) => (e as KeyStateError).kind;

describe("KeyService", () => {
  it("rotate: old ciphertexts still decrypt, new ones use the new primary; a disabled version → conflict", async () => {
    const { keys } = service();
    await keys.createKey(APP, { name: "orders", purpose: "encrypt" });
    const v1 = await keys.encrypt(APP, "orders", text("old"), aad);
    expect(v1.version).toBe(1);
    await keys.rotate(APP, "orders");
    const v2 = await keys.encrypt(APP, "orders", text("new"), aad);
    expect(v2.version).toBe(2);
    expect(keys.decrypt(APP, v1.ciphertext, aad)).toMatchObject({ key: "orders", version: 1, plaintext: text("old") });
    expect(keys.decrypt(APP, v2.ciphertext, aad).plaintext).toEqual(text("new"));
    keys.ring(APP).disable("orders", 1);
    const err = (() => {
      try {
        keys.decrypt(APP, v1.ciphertext, aad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KeyStateError);
    expect(kind(err)).toBe("conflict");
  });

  it("isolates apps: another app's ciphertext names a key it does not have (404), and cannot open it anyway", async () => {
    const { keys } = service();
    await keys.createKey(APP, { name: "shared-name", purpose: "encrypt" });
    const sealed = await keys.encrypt(APP, "shared-name", text("secret"), aad);
    expect(() => keys.decrypt(OTHER_APP, sealed.ciphertext, aad)).toThrow(
      expect.objectContaining({ kind: "not_found" }),
    );
    // Even with a key of the same name, the other app's KEK and the AAD's app id keep it closed.
    await keys.createKey(OTHER_APP, { name: "shared-name", purpose: "encrypt" });
    expect(() => keys.decrypt(OTHER_APP, sealed.ciphertext, aad)).toThrow();
    expect(() => keys.decrypt(APP, sealed.ciphertext, text("other aad"))).toThrow(DecryptFailedError);
  });

  it("data keys: the plaintext key and its ciphertext open to the same bytes, and seal an enclave's secret (KeyMeld flow)", async () => {
    const { keys } = service();
    await keys.createKey(APP, { name: "wallet-kek", purpose: "encrypt" });
    await keys.createKey(APP, { name: "signer", purpose: "sign-secp256k1" });
    const dk = await keys.dataKey(APP, "wallet-kek", 32, aad);
    expect(dk.plaintext).toHaveLength(32);
    // The app seals its own secret with the data key and keeps both ciphertexts.
    const nonce = new Uint8Array(randomBytes(12));
    const secret = text("enclave private key");
    const sealedSecret = aesGcmEncrypt(dk.plaintext, nonce, secret);
    // After a restart it holds only the ciphertexts: the KMS gives the data key back.
    const recovered = keys.decrypt(APP, dk.ciphertext, aad).plaintext;
    expect(aesGcmDecrypt(recovered, nonce, sealedSecret)).toEqual(secret);
    const signed = keys.sign(APP, "signer", { message: secret });
    const address = keys.publicKey(APP, "signer").address;
    const signer = await recoverMessageAddress({ message: { raw: secret }, signature: `0x${signed.signature}` as Hex });
    expect(signer.toLowerCase()).toBe(address);
    await expect(keys.dataKey(APP, "wallet-kek", 8)).rejects.toThrow(KeyUsageError);
  });

  it("signs, verifies, macs and re-encrypts only with keys of the right purpose", async () => {
    const { keys } = service();
    await keys.createKey(APP, { name: "p256", purpose: "sign-p256" });
    await keys.createKey(APP, { name: "mac", purpose: "mac" });
    await keys.createKey(APP, { name: "a", purpose: "encrypt" });
    await keys.createKey(APP, { name: "b", purpose: "encrypt" });
    const { signature } = keys.sign(APP, "p256", { message: text("m") });
    expect(keys.verify(APP, "p256", { message: text("m") }, signature)).toBe(true);
    expect(keys.verify(APP, "p256", { message: text("n") }, signature)).toBe(false);
    expect(keys.publicKey(APP, "p256").pem).toMatch(/BEGIN PUBLIC KEY/);
    const { mac } = keys.mac(APP, "mac", text("m"));
    expect(keys.verifyMac(APP, "mac", text("m"), mac)).toBe(true);
    await expect(keys.encrypt(APP, "p256", text("x"), aad)).rejects.toThrow(KeyUsageError);
    expect(() => keys.sign(APP, "a", { message: text("m") })).toThrow(KeyUsageError);
    expect(() => keys.publicKey(APP, "mac")).toThrow(KeyUsageError);
    const sealed = await keys.encrypt(APP, "a", text("move me"), aad);
    const moved = await keys.reencrypt(APP, sealed.ciphertext, aad, "b");
    expect(moved.key).toBe("b");
    expect(keys.decrypt(APP, moved.ciphertext, aad).plaintext).toEqual(text("move me"));
    await expect(keys.random(0)).rejects.toThrow(KeyUsageError);
    expect(await keys.random(16)).toHaveLength(16);
  });

  it("holds material only wrapped under the app-and-key KEK; a destroyed version's material is gone", async () => {
    const { keys, advance } = service();
    await keys.createKey(APP, { name: "k", purpose: "encrypt" });
    const first = keys.ring(APP).get("k").versions.get(1)!;
    const ref = { appId: APP, keyName: "k", version: 1 };
    expect(unwrapMaterial(keyEncryptionKey(MASTER, APP, "k"), ref, first.wrapped!)).toHaveLength(32);
    expect(() => unwrapMaterial(keyEncryptionKey(new Uint8Array(32), APP, "k"), ref, first.wrapped!)).toThrow(
      UnwrapError,
    );
    const old = await keys.encrypt(APP, "k", text("x"), aad);
    await keys.rotate(APP, "k");
    keys.ring(APP).destroy("k", 1);
    advance(3_600_000);
    expect(keys.ring(APP).get("k").versions.get(1)!.state).toBe("DESTROYED");
    expect(() => keys.decrypt(APP, old.ciphertext, aad)).toThrow(expect.objectContaining({ kind: "conflict" }));
  });
});
