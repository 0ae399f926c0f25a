import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/nova-kms-v1.json" with { type: "json" };
import { hexToBytes } from "../../../enclave/crypto/bytes.js";
import {
  appAuthMessage,
  appResponseMessage,
  isTimestampFresh,
  peerAuthMessage,
  peerResponseMessage,
  PopError,
  verifyAppResponse,
  verifyPeerResponse,
  verifyPop,
} from "../../../enclave/crypto/pop.js";
import {
  checksumWallet,
  recoverPersonalMessageSigner,
  signPersonalMessage,
  withLegacyV,
} from "../../../enclave/crypto/secp256k1.js";

const v = vectors.pop;
const appKey = hexToBytes(v.app_private_key_hex);
const kmsKey = hexToBytes(v.kms_private_key_hex);

describe("PoP vector", () => {
  it("builds the exact signed strings (wallets canonicalised)", () => {
    expect(appAuthMessage(v.nonce_b64, v.kms_wallet, v.timestamp)).toBe(v.app_auth_message);
    expect(appAuthMessage(v.nonce_b64, checksumWallet(v.kms_wallet), Number(v.timestamp))).toBe(v.app_auth_message);
    expect(peerAuthMessage(v.nonce_b64, checksumWallet(v.kms_wallet), v.timestamp)).toBe(v.peer_auth_message_example);
    expect(appResponseMessage(v.app_signature, checksumWallet(v.kms_wallet))).toBe(v.response_message);
    expect(peerResponseMessage(v.app_signature, v.kms_wallet)).toBe(v.response_message);
  });

  it("signs and verifies the request and the response", () => {
    expect(withLegacyV(signPersonalMessage(appKey, v.app_auth_message))).toBe(v.app_signature);
    expect(verifyPop({ message: v.app_auth_message, signature: v.app_signature })).toBe(v.recovered_check);
    expect(
      verifyPop({
        message: v.app_auth_message,
        signature: v.app_signature,
        claimedWallet: checksumWallet(v.app_wallet),
      }),
    ).toBe(v.app_wallet);
    // A node emits the v ∈ {0, 1} form (PROTOCOL.md §3); both forms verify.
    expect(signPersonalMessage(kmsKey, v.response_message)).toBe(v.response_signature_emitted_v01);
    for (const responseSignature of [v.response_signature, v.response_signature_emitted_v01]) {
      expect(verifyAppResponse({ appSignature: v.app_signature, nodeWallet: v.kms_wallet, responseSignature })).toBe(
        v.kms_wallet,
      );
    }
  });

  it("the response covers the signature exactly as received", () => {
    const noPrefix = v.app_signature.slice(2);
    expect(appResponseMessage(noPrefix, v.kms_wallet)).toBe(`NovaKMS:Response:${noPrefix}:${v.kms_wallet}`);
    // A response made over the 0x form does not verify against the unprefixed one.
    expect(() =>
      verifyAppResponse({ appSignature: noPrefix, nodeWallet: v.kms_wallet, responseSignature: v.response_signature }),
    ).toThrow(PopError);
  });

  it("peer response round trip", () => {
    const peerMsg = peerAuthMessage(v.nonce_b64, v.app_wallet, v.timestamp);
    const kmsSig = signPersonalMessage(kmsKey, peerMsg);
    const resp = signPersonalMessage(appKey, peerResponseMessage(kmsSig, v.app_wallet));
    expect(verifyPeerResponse({ kmsSignature: kmsSig, responderWallet: v.app_wallet, responseSignature: resp })).toBe(
      v.app_wallet,
    );
    expect(() =>
      verifyPeerResponse({ kmsSignature: kmsSig, responderWallet: v.kms_wallet, responseSignature: resp }),
    ).toThrow(/claimed wallet/);
  });
});

describe("verifyPop failures", () => {
  it("wallet mismatch, malformed signature and malformed wallet are PopErrors", () => {
    expect(() =>
      verifyPop({ message: v.app_auth_message, signature: v.app_signature, claimedWallet: v.kms_wallet }),
    ).toThrow(/claimed wallet/);
    expect(() => verifyPop({ message: v.app_auth_message, signature: "0x1234" })).toThrow(PopError);
    expect(() => verifyPop({ message: v.app_auth_message, signature: v.app_signature, claimedWallet: "0x12" })).toThrow(
      PopError,
    );
  });

  it("recovers a different wallet when any field of the signed string changes (property)", () => {
    const fields = { nonce: v.nonce_b64, wallet: v.kms_wallet, ts: v.timestamp };
    const walletArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
    const nonceArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64"));
    const tsArb = fc.integer({ min: 0, max: 4_000_000_000 }).map(String);
    fc.assert(
      fc.property(
        fc.oneof(
          nonceArb.map((nonce) => ({ ...fields, nonce })),
          walletArb.map((wallet) => ({ ...fields, wallet })),
          tsArb.map((ts) => ({ ...fields, ts })),
        ),
        fc.constantFrom(appAuthMessage, peerAuthMessage),
        (changed, build) => {
          const message = build(changed.nonce, changed.wallet, changed.ts);
          fc.pre(message !== v.app_auth_message);
          expect(recoverPersonalMessageSigner(message, v.app_signature)).not.toBe(v.app_wallet);
          expect(() => verifyPop({ message, signature: v.app_signature, claimedWallet: v.app_wallet })).toThrow(
            PopError,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects a response signature when the app signature or node wallet changes", () => {
    const sigBody = v.app_signature.slice(2);
    fc.assert(
      fc.property(fc.nat({ max: 129 }), fc.constantFrom(..."0123456789abcdef"), (pos, ch) => {
        const i = pos % sigBody.length;
        fc.pre(sigBody[i] !== ch.toLowerCase());
        const altered = `0x${sigBody.slice(0, i)}${ch.toLowerCase()}${sigBody.slice(i + 1)}`;
        expect(() =>
          verifyAppResponse({
            appSignature: altered,
            nodeWallet: v.kms_wallet,
            responseSignature: v.response_signature,
          }),
        ).toThrow(PopError);
      }),
      { numRuns: 100 },
    );
    expect(() =>
      verifyAppResponse({
        appSignature: v.app_signature,
        nodeWallet: v.app_wallet,
        responseSignature: v.response_signature,
      }),
    ).toThrow(PopError);
  });

  it("builders reject empty fields, ':' injection and bad wallets", () => {
    expect(() => appAuthMessage("", v.kms_wallet, v.timestamp)).toThrow(PopError);
    expect(() => appAuthMessage("a:b", v.kms_wallet, v.timestamp)).toThrow(PopError);
    expect(() => peerAuthMessage(v.nonce_b64, v.kms_wallet, "")).toThrow(PopError);
    expect(() => appAuthMessage(v.nonce_b64, "0xnotawallet", v.timestamp)).toThrow();
    expect(() => appResponseMessage("", v.kms_wallet)).toThrow(PopError);
  });
});

describe("isTimestampFresh", () => {
  const now = 1_767_225_600;
  it("accepts within the window in both directions, inclusive", () => {
    expect(isTimestampFresh(String(now), now, 120)).toBe(true);
    expect(isTimestampFresh(String(now - 120), now, 120)).toBe(true);
    expect(isTimestampFresh(String(now + 120), now, 120)).toBe(true);
    expect(isTimestampFresh(String(now - 121), now, 120)).toBe(false);
    expect(isTimestampFresh(String(now + 121), now, 120)).toBe(false);
  });

  it("accepts decimal digits only", () => {
    for (const ts of [
      "",
      " 1767225600",
      "1767225600 ",
      "+1767225600",
      "-1",
      "1767225600.0",
      "1.7672256e9",
      "0x69558000",
      "１７６７２２５６００",
      "1".repeat(16),
    ]) {
      expect(isTimestampFresh(ts, now, 120), JSON.stringify(ts)).toBe(false);
    }
  });

  it("matches |now - ts| <= window for any integer (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 1000 }),
        (ts, nowSec, w) => {
          expect(isTimestampFresh(String(ts), nowSec, w)).toBe(Math.abs(nowSec - ts) <= w);
        },
      ),
    );
  });
});
