import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { p384 } from "@noble/curves/nist.js";
import { parseTransaction, recoverTransactionAddress, type Hex } from "viem";
import { SimulatedTee, simulatedIdentity } from "../../../enclave/tee/simulated.js";
import { deriveSimulatedKeys, P384_ORDER, SECP256K1_ORDER } from "../../../enclave/tee/sim-keys.js";
import { encryptionPublicKeySpki, encryptionPublicKeySpkiHex, TeeInputError } from "../../../enclave/tee/tee.js";
import { EnvelopeDecryptError, EnvelopeFormatError, parseEnvelope } from "../../../enclave/crypto/envelope.js";
import { p384PublicKeyFromPrivate, p384SpkiFromSec1 } from "../../../enclave/crypto/p384.js";
import { recoverPersonalMessageSigner } from "../../../enclave/crypto/secp256k1.js";
import { bytesToHex, hexToBytes, utf8 } from "../../../enclave/crypto/bytes.js";

const text = (input: Uint8Array | { plaintext: Uint8Array }) =>
  new TextDecoder().decode(input instanceof Uint8Array ? input : input.plaintext);

const sampleTx = {
  chainId: 31337,
  nonce: 7,
  gas: 100_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
  to: "0x00000000000000000000000000000000000000aa",
  value: 12345n,
  data: "0xdeadbeef",
} as const;

describe("simulated identity from SIM_NODE_SEED", () => {
  it("the curve orders used for reduction are the real ones", () => {
    expect(SECP256K1_ORDER).toBe(secp256k1.Point.CURVE().n);
    expect(P384_ORDER).toBe(p384.Point.CURVE().n);
  });

  it("same seed gives the same wallet and teePubkey; different seeds differ", async () => {
    const a1 = new SimulatedTee({ seed: "node-1" });
    const a2 = new SimulatedTee({ seed: "node-1" });
    const b = new SimulatedTee({ seed: "node-2" });
    expect(await a1.address()).toBe(await a2.address());
    expect(await a1.encryptionPublicKey()).toEqual(await a2.encryptionPublicKey());
    expect(await a1.address()).not.toBe(await b.address());
    expect(await a1.encryptionPublicKey()).not.toEqual(await b.encryptionPublicKey());
  });

  it("a string seed is UTF-8 text and a byte seed is bytes (the same bytes give the same keys)", () => {
    expect(simulatedIdentity("abc").wallet).toBe(simulatedIdentity(utf8("abc")).wallet);
    expect(simulatedIdentity("0xab").wallet).not.toBe(simulatedIdentity(hexToBytes("ab")).wallet);
  });

  it("simulatedIdentity (for scripts) matches what the TEE reports", async () => {
    const tee = new SimulatedTee({ seed: "script-seed" });
    const id = simulatedIdentity("script-seed");
    expect(id.wallet).toBe(await tee.address());
    expect(id.wallet).toMatch(/^0x[0-9a-f]{40}$/);
    expect(id.teePubkey).toEqual(await tee.encryptionPublicKey());
    expect(id.teePubkeySpki).toEqual(await encryptionPublicKeySpki(tee));
    expect(id.teePubkeySpki).toHaveLength(120);
    expect(id.teePubkeySpkiHex).toBe(`0x${await encryptionPublicKeySpkiHex(tee)}`);
    expect(tee.identity).toEqual(id);
  });

  it("wallet and encryption keys are independent labels of one seed and valid scalars", () => {
    const keys = deriveSimulatedKeys("x");
    expect(keys.walletPrivateKey).toHaveLength(32);
    expect(keys.encryptionPrivateKey).toHaveLength(48);
    expect(bytesToHex(keys.encryptionPrivateKey).slice(0, 64)).not.toBe(bytesToHex(keys.walletPrivateKey));
    expect(p384PublicKeyFromPrivate(keys.encryptionPrivateKey)).toEqual(simulatedIdentity("x").teePubkey);
    for (let i = 0; i < 50; i++) {
      const k = deriveSimulatedKeys(`seed-${i}`);
      const w = BigInt(`0x${bytesToHex(k.walletPrivateKey)}`);
      const e = BigInt(`0x${bytesToHex(k.encryptionPrivateKey)}`);
      expect(w > 0n && w < SECP256K1_ORDER).toBe(true);
      expect(e > 0n && e < P384_ORDER).toBe(true);
    }
  });

  it("pins the identity of a known seed, so scripts and nodes never drift apart", () => {
    // Computed once from this implementation; a change here changes every registered dev identity.
    const id = simulatedIdentity("nova-kms-test-seed");
    expect(id.wallet).toBe(PINNED_WALLET);
    expect(bytesToHex(id.teePubkeySpki).slice(0, 48)).toBe("3076301006072a8648ce3d020106052b8104002203620004");
  });

  it("an empty seed is refused; without a seed every TEE is different", async () => {
    expect(() => simulatedIdentity("")).toThrow(/empty/);
    expect(await new SimulatedTee().address()).not.toBe(await new SimulatedTee().address());
  });
});

describe("SimulatedTee signing", () => {
  const tee = new SimulatedTee({ seed: "signer" });

  it("signMessage is EIP-191 personal_sign by the wallet, deterministic, 65 bytes with v 0/1", async () => {
    const message = "NovaKMS:Auth:nonce:0xabc:1700000000";
    const sig = await tee.signMessage(message);
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
    expect([0, 1]).toContain(parseInt(sig.slice(-2), 16));
    expect(recoverPersonalMessageSigner(message, sig)).toBe(await tee.address());
    expect(await tee.signMessage(message)).toBe(sig);
    expect(recoverPersonalMessageSigner("other", sig)).not.toBe(await tee.address());
  });

  it("signMessage refuses an empty message, as Odyn does", async () => {
    await expect(tee.signMessage("")).rejects.toBeInstanceOf(TeeInputError);
  });

  it("signTransaction returns a signed EIP-1559 tx whose sender is the wallet", async () => {
    const raw = await tee.signTransaction(sampleTx);
    const parsed = parseTransaction(raw);
    expect(parsed.type).toBe("eip1559");
    expect(parsed.chainId).toBe(31337);
    expect(parsed.nonce).toBe(7);
    expect(parsed.to).toBe(sampleTx.to);
    expect(parsed.value).toBe(12345n);
    expect(parsed.data).toBe("0xdeadbeef");
    expect(
      await recoverTransactionAddress({
        serializedTransaction: raw as Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"],
      }),
    ).toBe((await import("viem")).getAddress(await tee.address()));
  });

  it("signTransaction refuses what Odyn cannot sign", async () => {
    await expect(
      tee.signTransaction({ chainId: 1, nonce: 0, gas: 21000n, gasPrice: 1n, to: sampleTx.to }),
    ).rejects.toBeInstanceOf(TeeInputError);
    await expect(tee.signTransaction({ ...sampleTx, nonce: undefined })).rejects.toThrow(/nonce is required/);
    await expect(tee.signTransaction({ ...sampleTx, maxPriorityFeePerGas: 3_000_000_000n })).rejects.toThrow(/exceeds/);
    await expect(tee.signTransaction({ ...sampleTx, r: "0x01" as Hex, s: "0x01" as Hex, yParity: 0 })).rejects.toThrow(
      /already signed/,
    );
  });

  it("randomBytes gives the requested length and fresh bytes", async () => {
    const a = await tee.randomBytes(32);
    const b = await tee.randomBytes(32);
    expect(a).toHaveLength(32);
    expect(a).not.toEqual(b);
    expect(await tee.randomBytes(0)).toHaveLength(0);
    await expect(tee.randomBytes(-1)).rejects.toBeInstanceOf(TeeInputError);
    await expect(tee.randomBytes(1.5)).rejects.toBeInstanceOf(TeeInputError);
  });
});

describe("SimulatedTee envelopes", () => {
  const alice = new SimulatedTee({ seed: "alice" });
  const bob = new SimulatedTee({ seed: "bob" });
  const message = utf8(JSON.stringify({ a: 1, b: "ü" }));

  it("round trips between two TEEs in both directions, to SEC1 or SPKI keys", async () => {
    const toBob = await alice.encryptTo(await bob.encryptionPublicKey(), message);
    expect(toBob.sender_tee_pubkey).toBe(await encryptionPublicKeySpkiHex(alice));
    expect(toBob.nonce).toMatch(/^[0-9a-f]{24}$/);
    expect(text(await bob.decryptFrom(parseEnvelope(toBob)))).toBe(text(message));

    const toAlice = await bob.encryptTo(await encryptionPublicKeySpki(alice), utf8("reply"));
    expect(text(await alice.decryptFrom(parseEnvelope(toAlice)))).toBe("reply");
  });

  it("an envelope for someone else, or with one altered byte, does not open", async () => {
    const carol = new SimulatedTee({ seed: "carol" });
    const toBob = await alice.encryptTo(await bob.encryptionPublicKey(), message);
    await expect(carol.decryptFrom(parseEnvelope(toBob))).rejects.toBeInstanceOf(EnvelopeDecryptError);
    const parsed = parseEnvelope(toBob);
    parsed.ciphertext[0] = (parsed.ciphertext[0] ?? 0) ^ 1;
    await expect(bob.decryptFrom(parsed)).rejects.toBeInstanceOf(EnvelopeDecryptError);
  });

  it("refuses nonce reuse from the same sender, but a forged envelope does not burn the nonce", async () => {
    const toBob = await alice.encryptTo(await bob.encryptionPublicKey(), message);
    const forged = parseEnvelope(toBob);
    forged.ciphertext[1] = (forged.ciphertext[1] ?? 0) ^ 1;
    await expect(bob.decryptFrom(forged)).rejects.toBeInstanceOf(EnvelopeDecryptError);
    expect(text(await bob.decryptFrom(parseEnvelope(toBob)))).toBe(text(message));
    await expect(bob.decryptFrom(parseEnvelope(toBob))).rejects.toThrow(/already used/);
    const lenient = new SimulatedTee({ seed: "bob", replayWindow: 0 });
    await lenient.decryptFrom(parseEnvelope(toBob));
    await lenient.decryptFrom(parseEnvelope(toBob));
  });

  it("requires a 12-byte nonce and UTF-8 plaintext", async () => {
    const toBob = parseEnvelope(await alice.encryptTo(await bob.encryptionPublicKey(), message));
    await expect(bob.decryptFrom({ ...toBob, nonce: new Uint8Array(16) })).rejects.toBeInstanceOf(EnvelopeFormatError);
    await expect(alice.encryptTo(await bob.encryptionPublicKey(), Uint8Array.of(0xff, 0xfe))).rejects.toBeInstanceOf(
      TeeInputError,
    );
    await expect(alice.encryptTo(new Uint8Array(97), message)).rejects.toThrow();
  });

  it("a sender or recipient point that is not on the curve is refused, even on the SEC1 fast path", async () => {
    const offCurve = new Uint8Array(97).fill(7);
    offCurve[0] = 0x04;
    await expect(alice.encryptTo(offCurve, message)).rejects.toThrow(/curve/);
    const toBob = parseEnvelope(await alice.encryptTo(await bob.encryptionPublicKey(), message));
    await expect(bob.decryptFrom({ ...toBob, senderPublicKey: offCurve })).rejects.toBeInstanceOf(EnvelopeFormatError);
  });

  it("the SPKI helper gives the 120-byte DER of the SEC1 key", async () => {
    expect(await encryptionPublicKeySpki(alice)).toEqual(p384SpkiFromSec1(await alice.encryptionPublicKey()));
  });
});

const PINNED_WALLET = "0x9a8ae44cf685b95c9ed55c5a3c175e4153afc3d0";
