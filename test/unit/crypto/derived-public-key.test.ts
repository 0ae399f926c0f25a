// The derived public key's pure part (PROTOCOL.md §12): public key and address of the /kms/derive key
// (against viem), the exact signed string, and a verifier that refuses every changed field.
import { privateKeyToAddress } from "viem/accounts";
import { recoverMessageAddress } from "viem";
import { describe, expect, it } from "vitest";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import {
  type DerivedKeyRequest,
  type DerivedPublicKeyAnswer,
  DerivedPublicKeyError,
  derivedPublicKey,
  derivedPublicKeyMessage,
  NotASecp256k1KeyError,
  verifyDerivedPublicKey,
} from "../../../enclave/crypto/derived-public-key.js";
import { deriveAppKey } from "../../../enclave/crypto/kdf.js";
import { jsSecp256k1, signPersonalMessage, withLegacyV } from "../../../enclave/crypto/secp256k1.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const SECRET = new Uint8Array(32).fill(9);
const node = new SimulatedTee({ seed: "dpk-node" });
const other = new SimulatedTee({ seed: "dpk-other" });
const asked: DerivedKeyRequest = { appId: 42n, path: "wallet/root", context: "session-a" };
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function answerFor(request: DerivedKeyRequest, signer = node): Promise<DerivedPublicKeyAnswer> {
  const key = deriveAppKey(SECRET, request.appId, request.path, request.context, 32);
  const { publicKey, address } = derivedPublicKey(key);
  return {
    app_id: request.appId.toString(),
    path: request.path,
    context: request.context,
    public_key: bytesToHex(publicKey),
    address,
    node_wallet: node.identity.wallet,
    signature: await signer.signMessage(derivedPublicKeyMessage(request, address)),
  };
}

describe("derivedPublicKey", () => {
  it("is the public key and address of the /kms/derive key (viem agrees), on both backends", () => {
    for (const [path, context] of [
      ["wallet/root", "session-a"],
      ["a", ""],
      ["x:y", "z"],
    ] as const) {
      const key = deriveAppKey(SECRET, 7n, path, context, 32);
      const { publicKey, address } = derivedPublicKey(key);
      expect(address).toBe(privateKeyToAddress(`0x${bytesToHex(key)}`).toLowerCase());
      expect(publicKey).toHaveLength(65);
      expect(publicKey[0]).toBe(4);
      expect(bytesToHex(publicKey)).toBe(bytesToHex(jsSecp256k1.publicKey(key)));
    }
  });

  it("refuses 32 bytes that are no secp256k1 private key (0, n, 2^256-1)", () => {
    const n = Uint8Array.from(Buffer.from(CURVE_ORDER.toString(16), "hex"));
    for (const bad of [new Uint8Array(32), n, new Uint8Array(32).fill(0xff)]) {
      expect(() => derivedPublicKey(bad)).toThrow(NotASecp256k1KeyError);
    }
    const nMinus1 = Uint8Array.from(Buffer.from((CURVE_ORDER - 1n).toString(16), "hex"));
    expect(derivedPublicKey(nMinus1).address).toBe(privateKeyToAddress(`0x${bytesToHex(nMinus1)}`).toLowerCase());
  });
});

describe("derivedPublicKeyMessage", () => {
  it("is NovaKMS:DerivedPublicKey:<app_id>:<path>:<context>:<address>, the address in lower case", () => {
    const address = "0xAbCdEf0123456789abcdef0123456789ABCDEF01".toLowerCase();
    expect(derivedPublicKeyMessage(asked, address.toUpperCase().replace("0X", "0x"))).toBe(
      `NovaKMS:DerivedPublicKey:42:wallet/root:session-a:${address}`,
    );
    expect(derivedPublicKeyMessage({ appId: 2n ** 200n, path: "p", context: "" }, address)).toBe(
      `NovaKMS:DerivedPublicKey:${(2n ** 200n).toString()}:p::${address}`,
    );
  });

  it("refuses what the route refuses: app id 0 or over uint256, empty or long path, long context, context ending ':'", () => {
    const address = node.identity.wallet;
    for (const bad of [
      { ...asked, appId: 0n },
      { ...asked, appId: 2n ** 256n },
      { ...asked, path: "" },
      { ...asked, path: "p".repeat(1025) },
      { ...asked, context: "c".repeat(4097) },
      // Would sign the same string as path "wallet/root:x" without a context, whose key differs.
      { ...asked, context: "x:" },
    ]) {
      expect(() => derivedPublicKeyMessage(bad, address)).toThrow(DerivedPublicKeyError);
    }
    expect(() => derivedPublicKeyMessage({ ...asked, path: "p".repeat(1024) }, address)).not.toThrow();
  });
});

describe("verifyDerivedPublicKey", () => {
  it("accepts the node's answer; the signature is personal_sign by the node wallet (viem recovers it), v 0/1", async () => {
    const answer = await answerFor(asked);
    expect(Buffer.from(verifyDerivedPublicKey(answer, asked, node.identity.wallet)).toString("hex")).toBe(
      answer.public_key,
    );
    const recovered = await recoverMessageAddress({
      message: derivedPublicKeyMessage(asked, answer.address),
      signature: answer.signature as `0x${string}`,
    });
    expect(recovered.toLowerCase()).toBe(node.identity.wallet);
    expect(answer.signature).toMatch(/^0x[0-9a-f]{128}0[01]$/);
    // A wallet's 27/28 form of the same signature is accepted too.
    expect(() =>
      verifyDerivedPublicKey({ ...answer, signature: withLegacyV(answer.signature) }, asked, node.identity.wallet),
    ).not.toThrow();
  });

  it("refuses a changed field, another request's answer, another signer or another node", async () => {
    const answer = await answerFor(asked);
    const otherAnswer = await answerFor({ ...asked, path: "wallet/other" });
    const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
    const cases: Array<[string, DerivedPublicKeyAnswer, string?]> = [
      ["app_id", { ...answer, app_id: "43" }],
      ["path", { ...answer, path: "wallet/roo" }],
      ["context", { ...answer, context: "" }],
      ["public_key", { ...answer, public_key: otherAnswer.public_key }],
      ["public_key", { ...answer, public_key: flip(answer.public_key) }],
      ["public_key", { ...answer, public_key: `0x${answer.public_key}` }],
      ["address", { ...answer, address: otherAnswer.address }],
      // Consistent key and address, but the node signed them for another path.
      ["signature", { ...answer, public_key: otherAnswer.public_key, address: otherAnswer.address }],
      ["signature", { ...answer, signature: otherAnswer.signature }],
      ["signature", await answerFor(asked, other)],
      ["signature", { ...answer, signature: "0x1234" }],
      ["node_wallet", { ...answer, node_wallet: other.identity.wallet }],
      ["node_wallet", answer, other.identity.wallet],
    ];
    for (const [field, tampered, wallet] of cases) {
      expect(() => verifyDerivedPublicKey(tampered, asked, wallet ?? node.identity.wallet), field).toThrow(
        DerivedPublicKeyError,
      );
    }
    // A different path's honest answer verifies only for that path.
    expect(() => verifyDerivedPublicKey(otherAnswer, asked, node.identity.wallet)).toThrow(/path/);
  });

  it("a signature by the derived key itself (not the node) is refused", async () => {
    const answer = await answerFor(asked);
    const key = deriveAppKey(SECRET, asked.appId, asked.path, asked.context, 32);
    const selfSigned = signPersonalMessage(key, derivedPublicKeyMessage(asked, answer.address));
    expect(() => verifyDerivedPublicKey({ ...answer, signature: selfSigned }, asked, node.identity.wallet)).toThrow(
      /node's wallet/,
    );
  });
});
