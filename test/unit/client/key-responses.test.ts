// The §12 reply parsers: a well-formed reply becomes the typed result, and a reply of the wrong
// shape — or one that does not answer what was asked — is refused with ResponseShapeError.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readCiphertextHeader } from "../../../client/ciphertext-header.js";
import { ResponseShapeError } from "../../../client/json-fields.js";
import {
  changedVersion,
  dataKeyResult,
  decryptResult,
  encryptResult,
  key,
  keyPage,
  keyVersion,
  macResult,
  publicKeyResult,
  randomBytes,
  reencryptResult,
  rotatedKey,
  signResult,
  validity,
  versionPage,
} from "../../../client/key-responses.js";
import { secret, secretDeleted, secretPage, secretPut } from "../../../client/secret-responses.js";
import { addressFromPrivateKey } from "../../../enclave/crypto/secp256k1.js";
import { encodeCiphertext } from "../../../enclave/protocol/named-key-ciphertext.js";

const wireKey = {
  name: "orders",
  purpose: "encrypt",
  primary_version: 1,
  rotation_period_days: 30,
  next_rotation_at_ms: 1_700_000_000_000,
  created_at_ms: 1_690_000_000_000,
  description: "",
  labels: { team: "billing" },
};

const ciphertextOf = (keyName: string, version: number) =>
  encodeCiphertext({ keyName, version, nonce: new Uint8Array(12), sealed: new Uint8Array(20) });

const refused = (f: () => unknown, message?: RegExp) => {
  expect(f).toThrow(ResponseShapeError);
  if (message) expect(f).toThrow(message);
};

describe("ciphertext header", () => {
  it("reads the key and version the node's encoder wrote", () => {
    expect(readCiphertextHeader(ciphertextOf("a.b-c_d", 7))).toEqual({ keyName: "a.b-c_d", version: 7 });
    expect(readCiphertextHeader(ciphertextOf("k".repeat(128), 0xffff_ffff))).toEqual({
      keyName: "k".repeat(128),
      version: 0xffff_ffff,
    });
  });

  it("gives nothing for text that is not a v1 ciphertext", () => {
    const good = ciphertextOf("k", 1);
    for (const bad of ["", "nkms1:", "nkms2:AQ", good.slice(0, 20), `${good}=`, `x${good}`, "nkms1:Ag"]) {
      expect(readCiphertextHeader(bad)).toBeUndefined();
    }
  });
});

describe("key and version replies", () => {
  it("parses a key and checks what create asked", () => {
    expect(key(wireKey, { name: "orders", purpose: "encrypt", labels: { team: "billing" } })).toEqual({
      name: "orders",
      purpose: "encrypt",
      primaryVersion: 1,
      rotationPeriodDays: 30,
      nextRotationAtMs: 1_700_000_000_000,
      createdAtMs: 1_690_000_000_000,
      description: "",
      labels: { team: "billing" },
    });
    refused(() => key(wireKey, { name: "other" }), /field name is not what the request asked for/);
    refused(() => key(wireKey, { name: "orders", purpose: "mac" }), /purpose/);
    refused(() => key(wireKey, { name: "orders", labels: {} }), /labels/);
    refused(() => key(wireKey, { name: "orders", labels: { team: "x" } }), /labels/);
    refused(() => key(wireKey, { name: "orders", rotationPeriodDays: 0 }), /rotation_period_days/);
    refused(() => key(wireKey, { name: "orders", description: "d" }), /description/);
    refused(() => key(wireKey, { name: "orders", primaryVersion: 2 }), /primary_version/);
  });

  it.each([
    ["a missing field", { ...wireKey, description: undefined }, /description/],
    ["an unknown purpose", { ...wireKey, purpose: "sign-dsa" }, /purpose/],
    ["version 0", { ...wireKey, primary_version: 0 }, /primary_version/],
    ["a fractional version", { ...wireKey, primary_version: 1.5 }, /primary_version/],
    ["a string number", { ...wireKey, created_at_ms: "1" }, /created_at_ms/],
    ["a rotation period past 3650", { ...wireKey, rotation_period_days: 3651 }, /rotation_period_days/],
    ["labels as a list", { ...wireKey, labels: ["a"] }, /labels/],
    ["a non-string label", { ...wireKey, labels: { a: 1 } }, /labels/],
  ])("refuses a key with %s", (_what, payload, message) => {
    refused(() => key(payload), message);
  });

  it("a rotation must leave a primary past version 1", () => {
    expect(rotatedKey({ ...wireKey, primary_version: 2 }, "orders").primaryVersion).toBe(2);
    refused(() => rotatedKey(wireKey, "orders"), /primary_version/);
  });

  it("parses versions, optional times present only when set", () => {
    expect(keyVersion({ version: 2, state: "ENABLED", created_at_ms: 5 }, 2)).toEqual({
      version: 2,
      state: "ENABLED",
      createdAtMs: 5,
    });
    expect(keyVersion({ version: 1, state: "DESTROY_SCHEDULED", created_at_ms: 5, destroy_at_ms: 9 })).toMatchObject({
      destroyAtMs: 9,
    });
    refused(() => keyVersion({ version: 2, state: "ENABLED", created_at_ms: 5 }, 3), /version/);
    refused(() => keyVersion({ version: 2, state: "enabled", created_at_ms: 5 }), /state/);
    refused(() => keyVersion({ version: 2, state: "ENABLED", created_at_ms: 5, destroy_at_ms: -1 }), /destroy_at_ms/);
    refused(() => keyVersion([]), /not a JSON object/);
  });

  it("an action's reply must show the state the action leads to", () => {
    const v = (state: string) => ({ version: 1, state, created_at_ms: 1 });
    expect(changedVersion(v("DISABLED"), 1, "disable").state).toBe("DISABLED");
    expect(changedVersion(v("DESTROYED"), 1, "destroy").state).toBe("DESTROYED");
    refused(() => changedVersion(v("ENABLED"), 1, "disable"), /state/);
    refused(() => changedVersion(v("ENABLED"), 1, "restore"), /state/);
    refused(() => changedVersion(v("DISABLED"), 2, "disable"), /version/);
  });

  it("holds pages to the size asked and refuses empty tokens", () => {
    expect(keyPage({ keys: [wireKey], next_page_token: "b3JkZXJz" }, 1)).toMatchObject({
      keys: [{ name: "orders" }],
      nextPageToken: "b3JkZXJz",
    });
    expect(keyPage({ keys: [] }, 10)).toEqual({ keys: [] });
    refused(() => keyPage({ keys: [wireKey, wireKey] }, 1), /more than the 1 asked/);
    refused(() => keyPage({ keys: [wireKey], next_page_token: "" }, 5), /next_page_token/);
    refused(() => keyPage({ keys: [wireKey], next_page_token: 3 }, 5), /next_page_token/);
    refused(() => keyPage({ keys: [{ ...wireKey, purpose: 1 }] }, 5), /purpose/);
    refused(() => keyPage({ keys: {} }, 5), /keys is not a list/);
    expect(versionPage({ versions: [{ version: 1, state: "ENABLED", created_at_ms: 1 }] }, 1).versions).toHaveLength(1);
    refused(() => versionPage({ versions: [{ version: 0, state: "ENABLED", created_at_ms: 1 }] }, 1), /version/);
  });
});

describe("crypto replies", () => {
  it("an encrypt reply's ciphertext names the key asked and the version reported", () => {
    const ciphertext = ciphertextOf("orders", 3);
    expect(encryptResult({ ciphertext, version: 3 }, "orders")).toEqual({ ciphertext, version: 3 });
    refused(() => encryptResult({ ciphertext, version: 3 }, "other"), /ciphertext key/);
    refused(() => encryptResult({ ciphertext, version: 2 }, "orders"), /ciphertext version/);
    refused(() => encryptResult({ ciphertext: "opaque", version: 3 }, "orders"), /nkms1/);
    refused(() => encryptResult({ ciphertext, version: 0 }, "orders"), /version/);
  });

  it("a decrypt reply names the ciphertext's key and version; plaintext is base64", () => {
    const sent = { keyName: "orders", version: 3 };
    expect(decryptResult({ plaintext: "aGk=", key: "orders", version: 3 }, sent)).toEqual({
      plaintext: new Uint8Array(Buffer.from("hi")),
      key: "orders",
      version: 3,
    });
    refused(() => decryptResult({ plaintext: "aGk=", key: "other", version: 3 }, sent), /key/);
    refused(() => decryptResult({ plaintext: "aGk=", key: "orders", version: 1 }, sent), /version/);
    refused(() => decryptResult({ plaintext: "not base64!", key: "orders", version: 3 }, sent), /plaintext/);
    refused(() => decryptResult({ plaintext: "aGk", key: "orders", version: 3 }, sent), /plaintext/);
    expect(decryptResult({ plaintext: "", key: "x", version: 9 }, undefined).key).toBe("x");
  });

  it("a reencrypt reply is under the key asked (or the ciphertext's own)", () => {
    const ciphertext = ciphertextOf("archive", 2);
    expect(reencryptResult({ ciphertext, key: "archive", version: 2 }, "archive").key).toBe("archive");
    refused(() => reencryptResult({ ciphertext, key: "archive", version: 2 }, "orders"), /key/);
    refused(() => reencryptResult({ ciphertext, key: "orders", version: 2 }, undefined), /ciphertext key/);
  });

  it("a data key has the length asked, and a plaintext only when asked", () => {
    const ciphertext = ciphertextOf("sealer", 1);
    const plaintext = Buffer.alloc(32, 7).toString("base64");
    const request = { keyName: "sealer", bytes: 32, withPlaintext: true };
    expect(dataKeyResult({ ciphertext, plaintext, version: 1 }, request).plaintext).toHaveLength(32);
    refused(() => dataKeyResult({ ciphertext, plaintext, version: 1 }, { ...request, bytes: 16 }), /16 asked/);
    refused(() => dataKeyResult({ ciphertext, version: 1 }, request), /plaintext is missing/);
    refused(
      () => dataKeyResult({ ciphertext, plaintext, version: 1 }, { ...request, withPlaintext: false }),
      /not asked/,
    );
    expect(dataKeyResult({ ciphertext, version: 1 }, { ...request, withPlaintext: false })).toEqual({
      ciphertext,
      version: 1,
    });
  });

  it("signatures and MACs are lower-case hex; verdicts are booleans", () => {
    expect(signResult({ signature: "ab01", version: 1 })).toEqual({ signature: "ab01", version: 1 });
    refused(() => signResult({ signature: "0xab", version: 1 }), /signature/);
    refused(() => signResult({ signature: "AB", version: 1 }), /signature/);
    refused(() => signResult({ signature: "", version: 1 }), /signature/);
    expect(macResult({ mac: "a".repeat(64), version: 2 }).version).toBe(2);
    refused(() => macResult({ mac: "a".repeat(62), version: 2 }), /32 bytes/);
    expect(validity({ valid: false })).toBe(false);
    refused(() => validity({ valid: "true" }), /valid/);
    refused(() => validity({}), /valid/);
  });

  it("random bytes come in the number asked", () => {
    expect(randomBytes({ random: Buffer.alloc(5).toString("base64") }, 5)).toHaveLength(5);
    refused(() => randomBytes({ random: Buffer.alloc(4).toString("base64") }, 5), /4 bytes/);
  });
});

describe("public key replies", () => {
  const secp = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
  const secpPem = secp.publicKey.export({ type: "spki", format: "pem" }).toString();
  const d = Buffer.from(secp.privateKey.export({ format: "jwk" }).d!, "base64url");
  const address = addressFromPrivateKey(new Uint8Array(d));
  const edPem = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();

  it("accepts the address of the secp256k1 key in the PEM, and only that", () => {
    expect(publicKeyResult({ pem: secpPem, version: 1, address }, 1)).toEqual({ pem: secpPem, version: 1, address });
    refused(() => publicKeyResult({ pem: secpPem, version: 1, address: `0x${"1".repeat(40)}` }, undefined), /address/);
    refused(() => publicKeyResult({ pem: secpPem, version: 1, address: address.toUpperCase() }, undefined), /address/);
    refused(() => publicKeyResult({ pem: secpPem, version: 1 }, undefined), /address is missing/);
    refused(() => publicKeyResult({ pem: secpPem, version: 2, address }, 1), /version/);
  });

  it("other keys carry no address; the PEM must be a public key", () => {
    expect(publicKeyResult({ pem: edPem, version: 3 }, undefined)).toEqual({ pem: edPem, version: 3 });
    refused(() => publicKeyResult({ pem: edPem, version: 3, address }, undefined), /no address/);
    refused(
      () =>
        publicKeyResult({ pem: "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n", version: 1 }, undefined),
      /pem/,
    );
  });
});

describe("secret replies", () => {
  it("repeat the name (and the version asked)", () => {
    expect(secretPut({ name: "db", version: 2 }, "db")).toEqual({ name: "db", version: 2 });
    refused(() => secretPut({ name: "other", version: 2 }, "db"), /name/);
    refused(() => secretPut({ name: "db", version: 0 }, "db"), /version/);
    expect(secret({ name: "db", version: 1, value: "cHc=" }, "db", 1).value).toEqual(new Uint8Array(Buffer.from("pw")));
    refused(() => secret({ name: "db", version: 2, value: "cHc=" }, "db", 1), /version/);
    refused(() => secret({ name: "db", version: 2 }, "db", undefined), /value/);
    expect(secretDeleted({ name: "db", deleted: true }, "db")).toBe(true);
    refused(() => secretDeleted({ name: "db", deleted: "yes" }, "db"), /deleted/);
    refused(() => secretDeleted({ name: "dc", deleted: true }, "db"), /name/);
  });

  it("lists summaries in pages", () => {
    const item = { name: "db", latest_version: 2, updated_at_ms: 10 };
    expect(secretPage({ secrets: [item], next_page_token: "ZGI" }, 1)).toEqual({
      secrets: [{ name: "db", latestVersion: 2, updatedAtMs: 10 }],
      nextPageToken: "ZGI",
    });
    refused(() => secretPage({ secrets: [item, item] }, 1), /more than/);
    refused(() => secretPage({ secrets: [{ ...item, latest_version: 0 }] }, 1), /latest_version/);
    refused(() => secretPage({ secrets: [{ ...item, value: undefined, name: 5 }] }, 1), /name/);
  });
});
