// The Odyn simulator itself, over raw HTTP: the contract's shapes, strict input validation (400),
// method/path handling, fault injection, and the CLI entry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import {
  getAddress,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  serializeTransaction,
  type Hex,
} from "viem";
import { startOdynSimulator, type OdynSimulator } from "../../scripts/odyn-simulator.js";
import { SimulatedTee, simulatedIdentity } from "../../enclave/tee/simulated.js";
import { encryptionPublicKeySpki } from "../../enclave/tee/tee.js";
import { bytesToHex, hexToBytes, utf8 } from "../../enclave/crypto/bytes.js";
import { parseEnvelope } from "../../enclave/crypto/envelope.js";

const SEED = "simulator-http-seed";
let sim: OdynSimulator;
const peer = new SimulatedTee({ seed: "http-peer" });
let peerSpkiHex: string;

async function call(
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method };
  if (raw !== undefined || body !== undefined) {
    init.body = raw ?? JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(sim.url + path, init);
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const structured = {
  kind: "structured",
  chain_id: "0x7a69",
  nonce: "0x1",
  max_priority_fee_per_gas: "0x3b9aca00",
  max_fee_per_gas: "0x77359400",
  gas_limit: "0x5208",
  to: "0x742d35cc6634c0532925a3b844bc9e7595f0beb0",
  value: "0xde0b6b3a7640000",
  data: "0x",
  access_list: [],
};

beforeAll(async () => {
  sim = await startOdynSimulator({ seed: SEED });
  peerSpkiHex = `0x${bytesToHex(await encryptionPublicKeySpki(peer))}`;
});

afterAll(async () => {
  await sim.stop();
});

describe("Odyn simulator: shapes", () => {
  it("GET /v1/eth/address answers the seed's wallet in EIP-55 and the 65-byte secp256k1 key", async () => {
    const { status, json } = await call("GET", "/v1/eth/address");
    expect(status).toBe(200);
    expect(json.address).toBe(getAddress(simulatedIdentity(SEED).wallet));
    expect(json.public_key).toMatch(/^0x04[0-9a-f]{128}$/);
    // The public key hashes to the address, as Ethereum defines it.
    expect(`0x${keccak256(`0x${(json.public_key as string).slice(4)}` as Hex).slice(-40)}`).toBe(
      simulatedIdentity(SEED).wallet,
    );
  });

  it("GET /v1/encryption/public_key answers the SPKI (0x hex) and a matching PEM", async () => {
    const { json } = await call("GET", "/v1/encryption/public_key");
    expect(json.public_key_der).toBe(simulatedIdentity(SEED).teePubkeySpkiHex);
    const pem = json.public_key_pem as string;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----$/);
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\n/g, ""), "base64");
    expect(`0x${der.toString("hex")}`).toBe(json.public_key_der);
  });

  it("GET /v1/random answers 32 fresh bytes", async () => {
    const a = (await call("GET", "/v1/random")).json.random_bytes as string;
    const b = (await call("GET", "/v1/random")).json.random_bytes as string;
    expect(a).toMatch(/^0x[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });

  it("POST /v1/eth/sign-tx: structured and raw_rlp payloads give the same signed tx, hash and signature", async () => {
    const s = await call("POST", "/v1/eth/sign-tx", { include_attestation: false, payload: structured });
    expect(s.status).toBe(200);
    const raw = s.json.raw_transaction as Hex;
    expect(s.json.transaction_hash).toBe(keccak256(raw));
    expect(s.json.attestation).toBeNull();
    expect(s.json.signature).toMatch(/^0x[0-9a-f]{130}$/);
    const parsed = parseTransaction(raw);
    expect(parsed).toMatchObject({ type: "eip1559", chainId: 31337, nonce: 1, gas: 21000n, value: 10n ** 18n });
    const sender = await recoverTransactionAddress({
      serializedTransaction: raw as Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"],
    });
    expect(sender.toLowerCase()).toBe(simulatedIdentity(SEED).wallet);

    const { r: _r, s: _s, v: _v, yParity: _y, ...unsigned } = parsed;
    const rlp = await call("POST", "/v1/eth/sign-tx", {
      payload: { kind: "raw_rlp", raw_payload: serializeTransaction(unsigned) },
    });
    expect(rlp.status).toBe(200);
    expect(rlp.json.raw_transaction).toBe(raw);
  });

  it("POST /v1/encryption/encrypt and /decrypt speak envelope v1 with an in-process peer", async () => {
    const enc = await call("POST", "/v1/encryption/encrypt", { plaintext: "héllo", client_public_key: peerSpkiHex });
    expect(enc.status).toBe(200);
    expect(enc.json.nonce).toMatch(/^[0-9a-f]{24}$/);
    expect(`0x${enc.json.enclave_public_key as string}`).toBe(simulatedIdentity(SEED).teePubkeySpkiHex);
    const opened = await peer.decryptFrom(
      parseEnvelope({
        sender_tee_pubkey: enc.json.enclave_public_key,
        nonce: enc.json.nonce,
        encrypted_data: enc.json.encrypted_data,
      }),
    );
    expect(new TextDecoder().decode(opened.plaintext)).toBe("héllo");

    const env = await peer.encryptTo(simulatedIdentity(SEED).teePubkey, utf8("to the enclave"));
    const dec = await call("POST", "/v1/encryption/decrypt", {
      nonce: `0x${env.nonce}`,
      client_public_key: peerSpkiHex,
      encrypted_data: `0x${env.encrypted_data}`,
    });
    expect(dec).toEqual({ status: 200, json: { plaintext: "to the enclave" } });
    // Odyn refuses a (client key, nonce) pair it has already opened.
    const again = await call("POST", "/v1/encryption/decrypt", {
      nonce: env.nonce,
      client_public_key: peerSpkiHex,
      encrypted_data: env.encrypted_data,
    });
    expect(again.status).toBe(400);
  });
});

describe("Odyn simulator: bad input answers 400 with a reason", () => {
  const cases: [string, string, unknown, RegExp][] = [
    ["sign: empty message", "/v1/eth/sign", { message: "" }, /empty/],
    ["sign: message not a string", "/v1/eth/sign", { message: 5 }, /message/],
    ["sign: unknown field", "/v1/eth/sign", { message: "x", extra: 1 }, /extra|unrecognized/i],
    ["sign: attestation asked", "/v1/eth/sign", { message: "x", include_attestation: true }, /attestation/],
    ["sign-tx: no payload kind", "/v1/eth/sign-tx", { payload: { ...structured, kind: undefined } }, /kind/],
    ["sign-tx: zero chain id", "/v1/eth/sign-tx", { payload: { ...structured, chain_id: "0x0" } }, /chainId/],
    ["sign-tx: decimal quantity", "/v1/eth/sign-tx", { payload: { ...structured, nonce: "12" } }, /nonce/],
    ["sign-tx: bad address", "/v1/eth/sign-tx", { payload: { ...structured, to: "0x1234" } }, /to/],
    [
      "sign-tx: tip above cap",
      "/v1/eth/sign-tx",
      { payload: { ...structured, max_priority_fee_per_gas: "0xffffffffff" } },
      /exceeds/,
    ],
    [
      "sign-tx: legacy raw payload",
      "/v1/eth/sign-tx",
      { payload: { kind: "raw_rlp", raw_payload: "0xe3808080808080" } },
      /raw_payload/,
    ],
    [
      "encrypt: SEC1 instead of SPKI",
      "/v1/encryption/encrypt",
      { plaintext: "x", client_public_key: `0x04${"11".repeat(96)}` },
      /SubjectPublicKeyInfo/,
    ],
    ["encrypt: not hex", "/v1/encryption/encrypt", { plaintext: "x", client_public_key: "0xzz" }, /hex/],
    [
      "encrypt: lone surrogate",
      "/v1/encryption/encrypt",
      { plaintext: "\ud800", client_public_key: "0x00" },
      /Unicode/,
    ],
    [
      "decrypt: 32-byte nonce",
      "/v1/encryption/decrypt",
      { nonce: `0x${"00".repeat(32)}`, client_public_key: "0x00", encrypted_data: "0x00" },
      /12 bytes/,
    ],
    [
      "decrypt: missing field",
      "/v1/encryption/decrypt",
      { nonce: `0x${"00".repeat(12)}`, client_public_key: "0x00" },
      /encrypted_data/,
    ],
  ];
  for (const [name, path, body, reason] of cases) {
    it(name, async () => {
      const { status, json } = await call("POST", path, body);
      expect(status).toBe(400);
      expect(json.error).toMatch(reason);
    });
  }

  it("a body that is not JSON", async () => {
    const { status, json } = await call("POST", "/v1/eth/sign", undefined, "{not json");
    expect(status).toBe(400);
    expect(json.error).toMatch(/JSON/);
  });

  it("decrypt with a wrong tag or a key that is not on the curve", async () => {
    const env = await peer.encryptTo(simulatedIdentity(SEED).teePubkey, utf8("x"));
    const flipped = (env.encrypted_data.startsWith("0") ? "1" : "0") + env.encrypted_data.slice(1);
    expect(
      (
        await call("POST", "/v1/encryption/decrypt", {
          nonce: env.nonce,
          client_public_key: peerSpkiHex,
          encrypted_data: flipped,
        })
      ).status,
    ).toBe(400);
    const offCurve = peerSpkiHex.slice(0, -2) + (peerSpkiHex.endsWith("00") ? "01" : "00");
    const res = await call("POST", "/v1/encryption/decrypt", {
      nonce: env.nonce,
      client_public_key: offCurve,
      encrypted_data: env.encrypted_data,
    });
    expect(res.status).toBe(400);
  });

  it("wrong method → 405, unknown path → 404", async () => {
    expect((await call("GET", "/v1/eth/sign")).status).toBe(405);
    expect((await call("POST", "/v1/random", {})).status).toBe(405);
    expect((await call("GET", "/v1/nothing")).status).toBe(404);
  });
});

describe("Odyn simulator: fault injection", () => {
  it("fails, replies, drops and counts per path, in the order armed", async () => {
    const before = sim.requestCount("/v1/random");
    sim.faults.failNext(1, { status: 503, path: "/v1/random" });
    sim.faults.replyNext(1, { random_bytes: "0x00" }, { path: "/v1/random" });
    expect((await call("GET", "/v1/eth/address")).status).toBe(200); // other paths untouched
    expect((await call("GET", "/v1/random")).status).toBe(503);
    expect((await call("GET", "/v1/random")).json).toEqual({ random_bytes: "0x00" });
    expect((await call("GET", "/v1/random")).status).toBe(200);
    expect(sim.requestCount("/v1/random") - before).toBe(3);
    sim.faults.dropNext(1);
    await expect(call("GET", "/v1/random")).rejects.toThrow();
    expect(sim.faults.pending).toBe(0);
  });

  it("stop() ends promptly even while a delayed request is pending", async () => {
    const other = await startOdynSimulator();
    other.faults.delayNext(1, 60_000);
    const hung = fetch(`${other.url}/v1/random`).catch((e: unknown) => e);
    await expect.poll(() => other.requestCount()).toBe(1);
    const started = performance.now();
    await other.stop();
    expect(performance.now() - started).toBeLessThan(5_000);
    await hung;
  });
});

describe("Odyn simulator CLI", () => {
  it("prints its URL and identity, serves the seed's keys, and exits cleanly on SIGTERM", async () => {
    const child = execa(
      process.execPath,
      ["--import", "tsx", "scripts/odyn-simulator.ts", "--port", "0", "--seed", "cli-seed"],
      {
        cwd: new URL("../..", import.meta.url).pathname,
        reject: false,
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
        });
        child.once("exit", () => reject(new Error(`simulator exited early: ${out}`)));
      });
      const info = JSON.parse(line) as { url: string; wallet: string; tee_pubkey: string };
      const id = simulatedIdentity("cli-seed");
      expect(info.wallet).toBe(id.wallet);
      expect(info.tee_pubkey).toBe(bytesToHex(id.teePubkeySpki));
      const res = (await (await fetch(`${info.url}/v1/eth/address`)).json()) as { address: string };
      expect(res.address.toLowerCase()).toBe(id.wallet);
      const key = (await (await fetch(`${info.url}/v1/encryption/public_key`)).json()) as { public_key_der: string };
      expect(hexToBytes(key.public_key_der)).toEqual(id.teePubkeySpki);
    } finally {
      child.kill("SIGTERM");
    }
    const result = await child;
    expect(result.exitCode).toBe(0);
  });
});
