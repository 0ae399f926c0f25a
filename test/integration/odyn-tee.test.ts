// OdynTee over real HTTP against our Odyn simulator: same answers as SimulatedTee with the same
// seed, and the failure policy (retry network errors and 5xx, never 4xx, time out, typed errors);
// answers are read up to a bound sized for the largest body the node accepts, and no further.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTransaction, recoverTransactionAddress, type Hex } from "viem";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { startOdynSimulator, type OdynSimulator } from "../../scripts/odyn-simulator.js";
import { OdynError, OdynTee, odynResponseLimit } from "../../enclave/tee/odyn.js";
import { loadConfig } from "../../enclave/config.js";
import { canonicalJson } from "../../enclave/crypto/canonical-json.js";
import { peakRssGrowth, startFloodServer } from "../support/flood-server.js";
import { SimulatedTee } from "../../enclave/tee/simulated.js";
import { encryptionPublicKeySpki, TeeInputError } from "../../enclave/tee/tee.js";
import { EnvelopeDecryptError, EnvelopeFormatError, parseEnvelope } from "../../enclave/crypto/envelope.js";
import { recoverPersonalMessageSigner, withLegacyV } from "../../enclave/crypto/secp256k1.js";
import { utf8 } from "../../enclave/crypto/bytes.js";

const SEED = "odyn-parity-seed";
const text = (input: Uint8Array | { plaintext: Uint8Array }) =>
  new TextDecoder().decode(input instanceof Uint8Array ? input : input.plaintext);
type SerializedTx = Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"];

const tx = {
  chainId: 31337,
  nonce: 3,
  gas: 90_000n,
  maxFeePerGas: 3_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
  to: "0x00000000000000000000000000000000000000bb",
  value: 10n ** 18n,
  data: "0x12345678",
  accessList: [{ address: "0x00000000000000000000000000000000000000cc", storageKeys: [`0x${"11".repeat(32)}`] }],
} as const;

let sim: OdynSimulator;
let odyn: OdynTee;
const local = new SimulatedTee({ seed: SEED });
const peer = new SimulatedTee({ seed: "a-peer" });
const extra: OdynTee[] = [];

function client(options: ConstructorParameters<typeof OdynTee>[0] = {}): OdynTee {
  const c = new OdynTee({ url: sim.url, minRetryDelayMs: 1, maxRetryDelayMs: 10, ...options });
  extra.push(c);
  return c;
}

beforeAll(async () => {
  sim = await startOdynSimulator({ seed: SEED });
  odyn = client({ retries: 3, timeoutMs: 5_000 });
});

afterAll(async () => {
  await Promise.all(extra.map((c) => c.close()));
  await sim.stop();
});

describe("OdynTee gives the same results as SimulatedTee with the same seed", () => {
  it("address (lower-case, though Odyn answers EIP-55) and encryption public key", async () => {
    expect(await odyn.address()).toBe(await local.address());
    expect(await odyn.address()).toMatch(/^0x[0-9a-f]{40}$/);
    expect(sim.identity.wallet).toBe(await local.address());
    expect(await odyn.encryptionPublicKey()).toEqual(await local.encryptionPublicKey());
    expect(await encryptionPublicKeySpki(odyn)).toEqual(sim.identity.teePubkeySpki);
  });

  it("signMessage: byte-identical deterministic signature that recovers to the wallet", async () => {
    const message = "NovaKMS:Response:0xsig:0xwallet";
    const sig = await odyn.signMessage(message);
    expect(sig).toBe(await local.signMessage(message));
    expect(recoverPersonalMessageSigner(message, sig)).toBe(await odyn.address());
    expect(sig.slice(-2)).toMatch(/^0[01]$/);
  });

  it("signMessage: a runtime answering v = 27/28 is normalised to the 0/1 every node signature carries", async () => {
    const c = client({ retries: 0 });
    const message = "NovaKMS:Response:0xabc:0xwallet";
    const expected = await local.signMessage(message);
    sim.faults.replyNext(
      1,
      { signature: withLegacyV(expected), address: sim.identity.wallet },
      { path: "/v1/eth/sign" },
    );
    expect(await c.signMessage(message)).toBe(expected);
    const bad = `${expected.slice(0, -2)}05`;
    sim.faults.replyNext(1, { signature: bad, address: sim.identity.wallet }, { path: "/v1/eth/sign" });
    await expect(c.signMessage(message)).rejects.toMatchObject({ failure: "bad_response" });
  });

  it("signTransaction: identical signed EIP-1559 tx whose sender is the wallet", async () => {
    const raw = await odyn.signTransaction(tx);
    expect(raw).toBe(await local.signTransaction(tx));
    const parsed = parseTransaction(raw);
    expect(parsed.accessList).toEqual(tx.accessList);
    expect((await recoverTransactionAddress({ serializedTransaction: raw as SerializedTx })).toLowerCase()).toBe(
      await odyn.address(),
    );
    // Contract creation (no `to`) and zero value go through the same mapping.
    const create = { ...tx, to: undefined, value: 0n, data: "0x6000" as Hex, accessList: [] };
    expect(await odyn.signTransaction(create)).toBe(await local.signTransaction(create));
  });

  it("envelopes interoperate in both directions with an in-process peer", async () => {
    const request = utf8(JSON.stringify({ path: "disk", ünï: "cödé" }));
    const toOdyn = await peer.encryptTo(await odyn.encryptionPublicKey(), request);
    expect(text(await odyn.decryptFrom(parseEnvelope(toOdyn)))).toBe(text(request));

    const fromOdyn = await odyn.encryptTo(await encryptionPublicKeySpki(peer), utf8("response"));
    expect(fromOdyn.sender_tee_pubkey).toBe(sim.identity.teePubkeySpkiHex.slice(2));
    expect(text(await peer.decryptFrom(parseEnvelope(fromOdyn)))).toBe("response");

    // Same key inside and outside Odyn: what OdynTee seals, the seed's SimulatedTee could have sealed.
    const fromLocal = await local.encryptTo(await peer.encryptionPublicKey(), utf8("same key"));
    expect(fromLocal.sender_tee_pubkey).toBe(fromOdyn.sender_tee_pubkey);
  });

  it("refuses tampered and replayed envelopes with EnvelopeDecryptError, and a bad nonce before any request", async () => {
    const envelope = await peer.encryptTo(await odyn.encryptionPublicKey(), utf8("once"));
    const tampered = parseEnvelope(envelope);
    tampered.ciphertext[0] = (tampered.ciphertext[0] ?? 0) ^ 0x80;
    await expect(odyn.decryptFrom(tampered)).rejects.toBeInstanceOf(EnvelopeDecryptError);
    expect(text(await odyn.decryptFrom(parseEnvelope(envelope)))).toBe("once");
    await expect(odyn.decryptFrom(parseEnvelope(envelope))).rejects.toBeInstanceOf(EnvelopeDecryptError);

    const before = sim.requestCount("/v1/encryption/decrypt");
    await expect(odyn.decryptFrom({ ...parseEnvelope(envelope), nonce: new Uint8Array(32) })).rejects.toBeInstanceOf(
      EnvelopeFormatError,
    );
    await expect(odyn.encryptTo(await peer.encryptionPublicKey(), Uint8Array.of(0xc3, 0x28))).rejects.toBeInstanceOf(
      TeeInputError,
    );
    expect(sim.requestCount("/v1/encryption/decrypt")).toBe(before);
  });

  it("randomBytes assembles any length from Odyn's 32-byte answers", async () => {
    const before = sim.requestCount("/v1/random");
    const bytes = await odyn.randomBytes(100);
    expect(bytes).toHaveLength(100);
    expect(sim.requestCount("/v1/random") - before).toBe(4);
    expect(await odyn.randomBytes(32)).not.toEqual(await odyn.randomBytes(32));
    await expect(odyn.randomBytes(1 << 20)).rejects.toBeInstanceOf(TeeInputError);
  });

  it("fetches the identity once and serves it from cache afterwards", async () => {
    const fresh = client();
    const before = sim.requestCount("/v1/eth/address");
    await Promise.all([fresh.address(), fresh.address(), fresh.signMessage("x"), fresh.address()]);
    await fresh.address();
    expect(sim.requestCount("/v1/eth/address") - before).toBe(1);
  });
});

describe("both TEEs refuse the same inputs with the same error types", () => {
  const both = (): [string, SimulatedTee | OdynTee][] => [
    ["simulated", local],
    ["odyn", odyn],
  ];

  it("messages, transactions and random lengths", async () => {
    for (const [name, tee] of both()) {
      await expect(tee.signMessage(""), name).rejects.toBeInstanceOf(TeeInputError);
      await expect(
        tee.signTransaction({ chainId: 1, nonce: 0, gas: 21000n, gasPrice: 1n }),
        name,
      ).rejects.toBeInstanceOf(TeeInputError);
      await expect(tee.randomBytes(-1), name).rejects.toBeInstanceOf(TeeInputError);
      await expect(tee.encryptTo(await peer.encryptionPublicKey(), Uint8Array.of(0xff)), name).rejects.toBeInstanceOf(
        TeeInputError,
      );
    }
  });

  it("envelopes: bad nonce, short ciphertext, off-curve sender, tampering and replay", async () => {
    const offCurve = new Uint8Array(97).fill(9);
    offCurve[0] = 0x04;
    for (const [name, tee] of both()) {
      const good = parseEnvelope(await peer.encryptTo(await tee.encryptionPublicKey(), utf8(`for ${name}`)));
      await expect(tee.decryptFrom({ ...good, nonce: good.nonce.subarray(0, 8) }), name).rejects.toBeInstanceOf(
        EnvelopeFormatError,
      );
      await expect(
        tee.decryptFrom({ ...good, ciphertext: good.ciphertext.subarray(0, 8) }),
        name,
      ).rejects.toBeInstanceOf(EnvelopeFormatError);
      await expect(tee.decryptFrom({ ...good, senderPublicKey: offCurve }), name).rejects.toBeInstanceOf(
        EnvelopeFormatError,
      );
      const tampered = { ...good, ciphertext: good.ciphertext.slice() };
      tampered.ciphertext[2] = (tampered.ciphertext[2] ?? 0) ^ 4;
      await expect(tee.decryptFrom(tampered), name).rejects.toBeInstanceOf(EnvelopeDecryptError);
      expect(text(await tee.decryptFrom(good))).toBe(`for ${name}`);
      await expect(tee.decryptFrom(good), name).rejects.toBeInstanceOf(EnvelopeDecryptError);
    }
  });
});

describe("OdynTee failure policy", () => {
  it("retries 503 and then succeeds", async () => {
    const before = sim.requestCount("/v1/random");
    sim.faults.failNext(2, { status: 503, path: "/v1/random" });
    expect(await odyn.randomBytes(32)).toHaveLength(32);
    expect(sim.requestCount("/v1/random") - before).toBe(3);
  });

  it("retries a dropped connection (network error) and then succeeds", async () => {
    const before = sim.requestCount("/v1/eth/sign");
    sim.faults.dropNext(1, { path: "/v1/eth/sign" });
    const sig = await odyn.signMessage("after a reset");
    expect(recoverPersonalMessageSigner("after a reset", sig)).toBe(await odyn.address());
    expect(sim.requestCount("/v1/eth/sign") - before).toBe(2);
  });

  it("gives up after the configured retries with an OdynError naming endpoint and status", async () => {
    const c = client({ retries: 2 });
    const before = sim.requestCount("/v1/random");
    sim.faults.failNext(10, { status: 502, path: "/v1/random" });
    const err = await c.randomBytes(8).catch((e: unknown) => e);
    sim.faults.clear();
    expect(err).toBeInstanceOf(OdynError);
    expect(err).toMatchObject({ endpoint: "/v1/random", status: 502, failure: "http", retryable: true });
    expect(sim.requestCount("/v1/random") - before).toBe(3);
  });

  it("never retries a 4xx", async () => {
    const before = sim.requestCount("/v1/eth/sign-tx");
    sim.faults.failNext(1, { status: 400, path: "/v1/eth/sign-tx" });
    const err = await odyn.signTransaction(tx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdynError);
    expect(err).toMatchObject({ endpoint: "/v1/eth/sign-tx", status: 400, retryable: false });
    expect(sim.requestCount("/v1/eth/sign-tx") - before).toBe(1);
    // A real 4xx from Odyn's own validation is not retried either.
    const beforeSign = sim.requestCount("/v1/eth/sign");
    sim.faults.failNext(1, { status: 429, path: "/v1/eth/sign" });
    await expect(odyn.signMessage("x")).rejects.toMatchObject({ status: 429 });
    expect(sim.requestCount("/v1/eth/sign") - beforeSign).toBe(1);
  });

  it("times out a hung call with OdynError (timeout), without retrying it", async () => {
    const c = client({ timeoutMs: 150, retries: 3 });
    await c.address(); // warm the cache so only the hung call is counted
    const before = sim.requestCount("/v1/random");
    sim.faults.delayNext(1, 30_000, { path: "/v1/random" });
    const err = await c.randomBytes(16).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OdynError);
    expect(err).toMatchObject({ endpoint: "/v1/random", failure: "timeout", status: undefined });
    expect(sim.requestCount("/v1/random") - before).toBe(1);
    // The client still works after a timeout.
    expect(await c.randomBytes(16)).toHaveLength(16);
  });

  it("errors never carry plaintext or messages", async () => {
    const c = client({ retries: 0 });
    sim.faults.failNext(1, { status: 500, path: "/v1/encryption/encrypt" });
    const err = (await c
      .encryptTo(await peer.encryptionPublicKey(), utf8("TOP-SECRET-PLAINTEXT"))
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(OdynError);
    expect(`${err.message} ${String(err.stack)} ${JSON.stringify(err)}`).not.toContain("TOP-SECRET");
    sim.faults.failNext(1, { status: 500, path: "/v1/eth/sign" });
    const err2 = (await c.signMessage("SECRET-MESSAGE").catch((e: unknown) => e)) as Error;
    expect(`${err2.message} ${JSON.stringify(err2)}`).not.toContain("SECRET-MESSAGE");
  });

  it("an identity fetch that failed is not cached: the next call fetches again", async () => {
    const c = client({ retries: 0 });
    sim.faults.failNext(1, { status: 500, path: "/v1/eth/address" });
    await expect(c.address()).rejects.toBeInstanceOf(OdynError);
    expect(await c.address()).toBe(await local.address());
  });

  it("a connection refused is a network OdynError after the retries", async () => {
    const dead = await startOdynSimulator();
    const url = dead.url;
    await dead.stop();
    const c = new OdynTee({ url, retries: 1, minRetryDelayMs: 1, maxRetryDelayMs: 2 });
    extra.push(c);
    await expect(c.randomBytes(4)).rejects.toMatchObject({
      name: "OdynError",
      failure: "network",
      endpoint: "/v1/random",
    });
  });
});

describe("OdynTee checks what Odyn answers", () => {
  it("rejects a malformed answer as bad_response", async () => {
    const c = client({ retries: 0 });
    sim.faults.replyNext(1, { random_bytes: 42 }, { path: "/v1/random" });
    await expect(c.randomBytes(8)).rejects.toMatchObject({ failure: "bad_response", endpoint: "/v1/random" });
    sim.faults.replyNext(1, { random_bytes: "0x0102" }, { path: "/v1/random" });
    await expect(c.randomBytes(8)).rejects.toMatchObject({ failure: "bad_response" });
  });

  it("rejects a signature from another address and a transaction other than the one requested", async () => {
    const c = client({ retries: 0 });
    await c.address();
    const stranger = privateKeyToAccount(generatePrivateKey());
    sim.faults.replyNext(
      1,
      { signature: await stranger.signMessage({ message: "m" }), address: stranger.address },
      { path: "/v1/eth/sign" },
    );
    await expect(c.signMessage("m")).rejects.toMatchObject({ failure: "bad_response" });

    const other = await local.signTransaction({ ...tx, value: 1n });
    sim.faults.replyNext(
      1,
      { raw_transaction: other, transaction_hash: "0x", address: await local.address() },
      { path: "/v1/eth/sign-tx" },
    );
    await expect(c.signTransaction(tx)).rejects.toThrow(/differs from the request/);

    const byStranger = await stranger.signTransaction({ ...tx, type: "eip1559" });
    sim.faults.replyNext(
      1,
      { raw_transaction: byStranger, transaction_hash: "0x", address: stranger.address },
      { path: "/v1/eth/sign-tx" },
    );
    await expect(c.signTransaction(tx)).rejects.toThrow(/another address/);
  });

  it("rejects an encryption under a key other than the enclave's", async () => {
    const c = client({ retries: 0 });
    const foreign = await peer.encryptTo(await local.encryptionPublicKey(), utf8("x"));
    sim.faults.replyNext(
      1,
      { encrypted_data: foreign.encrypted_data, enclave_public_key: foreign.sender_tee_pubkey, nonce: foreign.nonce },
      { path: "/v1/encryption/encrypt" },
    );
    await expect(c.encryptTo(await peer.encryptionPublicKey(), utf8("x"))).rejects.toThrow(/another key/);
  });
});

describe("OdynTee reads answers up to a bound", () => {
  const MiB = 1024 * 1024;
  // The node's body limits as they default (enclave/config.ts), and the Odyn bound node.ts derives from them.
  const defaults = loadConfig({
    SIMULATION_MODE: "true",
    CHAIN_RPC_URL: "http://127.0.0.1:1",
    NOVA_APP_REGISTRY_ADDRESS: `0x${"11".repeat(20)}`,
    KMS_REGISTRY_ADDRESS: `0x${"22".repeat(20)}`,
    KMS_APP_ID: "1",
  });

  /** An envelope to the enclave of `inner`, checked to fit in a KV request body. */
  async function kvBodyEnvelope(inner: unknown) {
    const envelope = await peer.encryptTo(await local.encryptionPublicKey(), utf8(canonicalJson(inner)));
    expect(JSON.stringify(envelope).length).toBeLessThanOrEqual(defaults.MAX_KV_BODY_BYTES);
    return parseEnvelope(envelope);
  }

  it("opens the largest KV write and a worst-case-escaped body of that size under the bound", async () => {
    // Only the KV body limit: an app's largest decrypt answer must fit even when sync bodies are small.
    const c = client({ retries: 0, maxResponseBytes: odynResponseLimit(defaults.MAX_KV_BODY_BYTES) });
    const value = Buffer.alloc(MiB, 7).toString("base64");
    const put = await kvBodyEnvelope({ op: "kv.put", key: "k".repeat(512), value, ttl_ms: 0 });
    expect(JSON.parse(text(await c.decryptFrom(put))).value).toBe(value);
    // Every character a quote: the runtime's JSON string of the plaintext doubles it.
    const quotes = await kvBodyEnvelope({ key: '"'.repeat(Math.floor(defaults.MAX_KV_BODY_BYTES / 4) - 256) });
    expect(JSON.parse(text(await c.decryptFrom(quotes))).key).toMatch(/^"+$/);
  });

  it.each([
    ["a body that never ends", {}],
    ["a declared 256 MiB body", { totalBytes: 256 * MiB, declareLength: true }],
  ])(
    "cuts off %s: too_large, not retried, memory flat; a decrypt answer so large is the sender's fault",
    async (_n, flood) => {
      const server = await startFloodServer(flood);
      const c = new OdynTee({ url: server.url, retries: 3, minRetryDelayMs: 1, maxResponseBytes: MiB });
      extra.push(c);
      try {
        const { outcome, growthBytes } = await peakRssGrowth(() => c.address());
        expect(outcome).toBeInstanceOf(OdynError);
        expect(outcome).toMatchObject({ failure: "too_large", endpoint: "/v1/eth/address", retryable: false });
        expect((outcome as Error).message).toBe(`Odyn /v1/eth/address failed: too_large (answer exceeds ${MiB} bytes)`);
        expect(growthBytes).toBeLessThan(64 * MiB);
        expect(server.bytesSent()).toBeLessThan(64 * MiB);
        const envelope = parseEnvelope(await peer.encryptTo(await local.encryptionPublicKey(), utf8("{}")));
        await expect(c.decryptFrom(envelope)).rejects.toBeInstanceOf(EnvelopeDecryptError);
      } finally {
        await server.close();
      }
    },
  );
});
