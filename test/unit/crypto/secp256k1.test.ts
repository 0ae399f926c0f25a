import fc from "fast-check";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { bytesToHex, concatBytes, hexToBytes } from "../../../enclave/crypto/bytes.js";
import {
  activeSecp256k1,
  addressFromPrivateKey,
  canonicalWallet,
  checksumWallet,
  jsSecp256k1,
  loadNativeSecp256k1,
  nativeSecp256k1,
  recoverPersonalMessageSigner,
  secp256k1BackendName,
  normalizeSignatureV,
  signPersonalMessage,
  withLegacyV,
  SignatureFormatError,
  type Secp256k1Backend,
} from "../../../enclave/crypto/secp256k1.js";

const pop = vectors.pop;
const appKey = hexToBytes(pop.app_private_key_hex);
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// The native binding ships a linux-x64 prebuild; on this platform it must be the active backend.
const native = nativeSecp256k1 as Secp256k1Backend;
const backends: Secp256k1Backend[] = [jsSecp256k1, native];

const privateKeyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => {
  const d = BigInt(`0x${bytesToHex(k)}`);
  return d > 0n && d < N;
});

describe("backend selection", () => {
  it("uses native libsecp256k1 on linux-x64", () => {
    expect(nativeSecp256k1).toBeDefined();
    expect(secp256k1BackendName()).toBe("native");
    expect(activeSecp256k1).toBe(nativeSecp256k1);
  });

  it("reports no native backend when the binding cannot load or cannot run", () => {
    expect(
      loadNativeSecp256k1(() => {
        throw new Error("Cannot find module");
      }),
    ).toBeUndefined();
    const broken = {
      publicKeyCreate: () => {
        throw new Error("bad ABI");
      },
    };
    expect(loadNativeSecp256k1(() => broken)).toBeUndefined();
  });
});

describe.each(backends.map((b) => [b.name, b] as const))("%s backend", (_name, backend) => {
  it("reproduces the PoP vector signatures and recovery", () => {
    expect(addressFromPrivateKey(appKey, backend)).toBe(pop.app_wallet);
    expect(addressFromPrivateKey(hexToBytes(pop.kms_private_key_hex), backend)).toBe(pop.kms_wallet);
    // Emitted with v ∈ {0, 1} (the runtime's convention); the vector's 27/28 forms are the same signatures.
    const appSignature = signPersonalMessage(appKey, pop.app_auth_message, backend);
    expect(appSignature.slice(-2)).toMatch(/^0[01]$/);
    expect(withLegacyV(appSignature)).toBe(pop.app_signature);
    expect(normalizeSignatureV(pop.app_signature)).toBe(appSignature);
    const responseSignature = signPersonalMessage(hexToBytes(pop.kms_private_key_hex), pop.response_message, backend);
    expect(responseSignature).toBe(pop.response_signature_emitted_v01);
    expect(withLegacyV(responseSignature)).toBe(pop.response_signature);
    expect(recoverPersonalMessageSigner(pop.app_auth_message, pop.app_signature, backend)).toBe(pop.recovered_check);
    expect(recoverPersonalMessageSigner(pop.response_message, pop.response_signature, backend)).toBe(pop.kms_wallet);
  });

  it("accepts v in {0,1,27,28} and an optional 0x", () => {
    const sig = hexToBytes(pop.app_signature);
    const v = sig[64] ?? 0;
    for (const nv of [v, v - 27]) {
      const s = concatBytes(sig.subarray(0, 64), Uint8Array.of(nv));
      expect(recoverPersonalMessageSigner(pop.app_auth_message, bytesToHex(s), backend)).toBe(pop.app_wallet);
      expect(recoverPersonalMessageSigner(pop.app_auth_message, `0x${bytesToHex(s)}`, backend)).toBe(pop.app_wallet);
    }
    // The other recovery id is a valid signature of someone else (or no one), never the app.
    const flipped = concatBytes(sig.subarray(0, 64), Uint8Array.of(v === 27 ? 28 : 27));
    let other: string | undefined;
    try {
      other = recoverPersonalMessageSigner(pop.app_auth_message, bytesToHex(flipped), backend);
    } catch (err) {
      expect(err).toBeInstanceOf(SignatureFormatError);
    }
    expect(other).not.toBe(pop.app_wallet);
  });

  it("throws on malformed signatures", () => {
    const sig = hexToBytes(pop.app_signature);
    const bad = [
      "",
      "0x",
      pop.app_signature.slice(0, -2),
      `${pop.app_signature}00`,
      `${pop.app_signature.slice(0, -2)}1d`, // v = 29
      `${pop.app_signature.slice(0, -2)}02`,
      `0x${"zz".repeat(65)}`,
      bytesToHex(concatBytes(new Uint8Array(32), sig.subarray(32))), // r = 0
      bytesToHex(concatBytes(sig.subarray(0, 32), new Uint8Array(32), sig.subarray(64))), // s = 0
      bytesToHex(concatBytes(hexToBytes(N.toString(16)), sig.subarray(32))), // r = n
      bytesToHex(concatBytes(new Uint8Array(32).fill(0xff), sig.subarray(32))), // r > n
    ];
    for (const s of bad)
      expect(() => recoverPersonalMessageSigner(pop.app_auth_message, s, backend), s).toThrow(SignatureFormatError);
  });

  it("accepts the high-S twin of a signature (like ecrecover)", () => {
    const sig = hexToBytes(pop.app_signature);
    const s = BigInt(`0x${bytesToHex(sig.subarray(32, 64))}`);
    const highS = hexToBytes((N - s).toString(16).padStart(64, "0"));
    const twin = concatBytes(sig.subarray(0, 32), highS, Uint8Array.of((sig[64] ?? 0) === 27 ? 28 : 27));
    expect(recoverPersonalMessageSigner(pop.app_auth_message, bytesToHex(twin), backend)).toBe(pop.app_wallet);
  });

  it("rejects bad private keys", () => {
    expect(() => signPersonalMessage(new Uint8Array(31).fill(1), "m", backend)).toThrow(SignatureFormatError);
    expect(() => signPersonalMessage(new Uint8Array(32), "m", backend)).toThrow(SignatureFormatError);
    expect(() => addressFromPrivateKey(hexToBytes(N.toString(16)), backend)).toThrow(SignatureFormatError);
  });
});

describe("native and JS agree", () => {
  it("on sign, address and recover for random keys and messages (and match viem)", async () => {
    await fc.assert(
      fc.asyncProperty(privateKeyArb, fc.string({ unit: "grapheme", maxLength: 200 }), async (key, message) => {
        const address = addressFromPrivateKey(key, native);
        expect(addressFromPrivateKey(key, jsSecp256k1)).toBe(address);
        const sigNative = signPersonalMessage(key, message, native);
        expect(signPersonalMessage(key, message, jsSecp256k1)).toBe(sigNative);
        expect(recoverPersonalMessageSigner(message, sigNative, native)).toBe(address);
        expect(recoverPersonalMessageSigner(message, sigNative, jsSecp256k1)).toBe(address);
        // We emit v as the bare recovery id (0/1); wallets such as viem emit 27/28. Both recover.
        const v = parseInt(sigNative.slice(-2), 16);
        expect([0, 1]).toContain(v);
        const legacy = withLegacyV(sigNative);
        expect(parseInt(legacy.slice(-2), 16)).toBe(v + 27);
        expect(recoverPersonalMessageSigner(message, legacy, native)).toBe(address);
        expect(recoverPersonalMessageSigner(message, legacy.slice(2), jsSecp256k1)).toBe(address);
        const account = privateKeyToAccount(`0x${bytesToHex(key)}`);
        expect(account.address.toLowerCase()).toBe(address);
        expect(await account.signMessage({ message })).toBe(legacy);
      }),
      { numRuns: 60 },
    );
  });

  it("on recover of arbitrary 65-byte inputs (same address or both throw)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(0, 1, 27, 28),
        fc.string({ maxLength: 40 }),
        (rs, v, message) => {
          const sig = bytesToHex(concatBytes(rs, Uint8Array.of(v)));
          const outcome = (b: Secp256k1Backend): string => {
            try {
              return recoverPersonalMessageSigner(message, sig, b);
            } catch (err) {
              expect(err).toBeInstanceOf(SignatureFormatError);
              return "throws";
            }
          };
          expect(outcome(native)).toBe(outcome(jsSecp256k1));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("canonicalWallet", () => {
  it("lower-cases valid addresses, accepting EIP-55 and all-caps", () => {
    const cs = checksumWallet(pop.app_wallet);
    expect(cs).not.toBe(pop.app_wallet);
    expect(canonicalWallet(cs)).toBe(pop.app_wallet);
    expect(canonicalWallet(pop.app_wallet)).toBe(pop.app_wallet);
    expect(canonicalWallet(`0x${pop.app_wallet.slice(2).toUpperCase()}`)).toBe(pop.app_wallet);
    expect(privateKeyToAccount(`0x${pop.app_private_key_hex}`).address).toBe(cs);
  });

  it("rejects malformed addresses and wrong checksums", () => {
    const cs = checksumWallet(pop.kms_wallet);
    const i = cs.search(/[a-f]/);
    const wrongCase = cs.slice(0, i) + (cs[i] ?? "").toUpperCase() + cs.slice(i + 1);
    for (const bad of [
      "",
      "0x",
      pop.app_wallet.slice(2),
      pop.app_wallet.slice(0, -1),
      `${pop.app_wallet}0`,
      `0X${pop.app_wallet.slice(2)}`,
      pop.app_wallet.replace(/.$/, "g"),
      wrongCase,
    ]) {
      expect(() => canonicalWallet(bad), bad).toThrow(SignatureFormatError);
    }
  });

  it("accepts any checksummed address (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (raw) => {
        const lower = `0x${bytesToHex(raw)}`;
        expect(canonicalWallet(checksumWallet(lower))).toBe(lower);
      }),
    );
  });
});
