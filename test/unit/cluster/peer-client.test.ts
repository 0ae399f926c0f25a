// PeerClient against a loopback /sync responder that holds the peer's registered identity but
// misbehaves in one way at a time: a reply signed by another wallet, or sealed by another key, must
// be refused even though everything else about it is right (an impostor at the peer's URL), as must
// a reply that names another request; and a peer answering without end is cut off at the bound.
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier, readPopHeaders } from "../../../enclave/auth/pop-verifier.js";
import { PeerCallError, PeerClient } from "../../../enclave/cluster/peer-client.js";
import type { PeerInfo } from "../../../enclave/cluster/peer-directory.js";
import { bytesToHex, utf8 } from "../../../enclave/crypto/bytes.js";
import { parseEnvelope } from "../../../enclave/crypto/envelope.js";
import { hmacSha256 } from "../../../enclave/crypto/hmac.js";
import { peerResponseMessage } from "../../../enclave/crypto/pop.js";
import { sealJson } from "../../../enclave/protocol/identity.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import { peakRssGrowth, startFloodServer } from "../../support/flood-server.js";

const us = new SimulatedTee({ seed: "peer-client-us" });
const peerTee = new SimulatedTee({ seed: "peer-client-peer" });
const impostor = new SimulatedTee({ seed: "peer-client-impostor" });
const syncKey = new Uint8Array(32).fill(9);

const misbehave: { signWith?: SimulatedTee; sealWith?: SimulatedTee; reply?: unknown } = {};
const seen: Array<{ mac: string | undefined; body: string; inner: Record<string, unknown> }> = [];
let server: ServerType;
let peer: PeerInfo;
let client: PeerClient;

beforeAll(async () => {
  const nonces = new NonceStore({ ttlMs: 60_000, maxEntries: 100 });
  const pop = new PopVerifier({ nonces, ownWallet: peerTee.identity.wallet, windowSeconds: 120 });
  const app = new Hono();
  app.get("/nonce", (c) => c.json({ nonce: nonces.issue() }));
  app.post("/sync", async (c) => {
    const verified = pop.verify(
      "peer",
      readPopHeaders("peer", (name) => c.req.header(name)),
    );
    const body = await c.req.text();
    const opened = await peerTee.decryptFrom(parseEnvelope(JSON.parse(body)));
    const inner = JSON.parse(new TextDecoder().decode(opened.plaintext)) as Record<string, unknown>;
    seen.push({ mac: c.req.header("x-sync-signature"), body, inner });
    const reply = misbehave.reply ?? { type: "roots_reply", differing: ["7"] };
    const envelope = await sealJson(misbehave.sealWith ?? peerTee, us.identity.teePubkey, reply, opened.label);
    const responseMessage = peerResponseMessage(verified.signature, peerTee.identity.wallet);
    c.header("x-kms-peer-signature", await (misbehave.signWith ?? peerTee).signMessage(responseMessage));
    return c.json(envelope);
  });
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  peer = {
    wallet: peerTee.identity.wallet,
    url: `http://127.0.0.1:${port}`,
    teePublicKey: peerTee.identity.teePubkey,
    instanceId: 1n,
    versionId: 1n,
    versionStatus: 0,
  };
  client = new PeerClient({ tee: us, ownWallet: us.identity.wallet, timeoutMs: 5_000, policy: { enclaveMode: false } });
});

afterAll(async () => {
  await client?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  delete misbehave.signWith;
  delete misbehave.sealWith;
  delete misbehave.reply;
  seen.length = 0;
});

async function refusal(): Promise<PeerCallError> {
  const err = await client.call(peer, { type: "roots", roots: {} }, { syncKey }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PeerCallError);
  return err as PeerCallError;
}

describe("PeerClient", () => {
  it("sends sender_wallet and the body's HMAC, and returns the verified reply (control)", async () => {
    const reply = await client.call(peer, { type: "roots", roots: {} }, { syncKey });
    expect(reply).toEqual({ type: "roots_reply", differing: ["7"] });
    expect(seen[0]!.inner).toEqual({ type: "roots", roots: {}, sender_wallet: us.identity.wallet });
    expect(seen[0]!.mac).toBe(bytesToHex(hmacSha256(syncKey, utf8(seen[0]!.body))));
    await client.call(peer, { type: "roots", roots: {} });
    expect(seen[1]!.mac).toBeUndefined();
  });

  it("refuses a reply signed by a wallet other than the peer's registered one", async () => {
    misbehave.signWith = impostor;
    const err = await refusal();
    expect(err.peer).toBe(peer.wallet);
    expect(err.message).toMatch(/not from the peer's on-chain wallet/);
  });

  it("refuses a reply sealed by a key other than the peer's registered one", async () => {
    misbehave.sealWith = impostor;
    expect((await refusal()).message).toMatch(/is not the peer's on-chain teePubkey/);
  });

  it("refuses a verified reply that does not fit the message type's reply schema", async () => {
    misbehave.reply = { type: "roots_reply", differing: "7" };
    const err = await refusal();
    expect(err.status).toBe(200);
    expect(err.message).toMatch(/^malformed reply to roots: differing: /);
  });

  it("refuses a reply that echoes another request's signature; one without an echo is a peer from before it", async () => {
    misbehave.reply = { type: "roots_reply", differing: ["7"], request_signature: `0x${"44".repeat(65)}` };
    expect((await refusal()).message).toMatch(/sealed reply answers another request/);
  });
});

describe("PeerClient against a peer that answers without end", () => {
  const MiB = 1024 * 1024;

  it.each([
    ["a body that never ends", {}],
    ["a 256 MiB body", { totalBytes: 256 * MiB }],
    ["a declared 256 MiB body", { totalBytes: 256 * MiB, declareLength: true }],
  ])("stops reading %s at maxResponseBytes, with a clear error and flat memory", async (_name, flood) => {
    const server = await startFloodServer(flood);
    const bounded = new PeerClient({
      tee: us,
      ownWallet: us.identity.wallet,
      timeoutMs: 20_000,
      policy: { enclaveMode: false },
      maxResponseBytes: MiB,
    });
    try {
      const started = Date.now();
      const { outcome, growthBytes } = await peakRssGrowth(() =>
        bounded.call({ ...peer, url: server.url }, { type: "roots", roots: {} }, { syncKey }),
      );
      expect(outcome).toBeInstanceOf(PeerCallError);
      expect((outcome as PeerCallError).message).toBe(
        `GET /nonce?for=peer: peer answer exceeds ${MiB} bytes; not read`,
      );
      expect((outcome as PeerCallError).status).toBe(200);
      // Cut off at the bound, not at the timeout; the socket is dropped, so the peer stops too.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(growthBytes).toBeLessThan(64 * MiB);
      expect(server.bytesSent()).toBeLessThan(64 * MiB);
    } finally {
      await bounded.close();
      await server.close();
    }
  });
});
