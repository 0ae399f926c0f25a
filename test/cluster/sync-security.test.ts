// /sync refuses everything that is not an authenticated, current KMS member (PROTOCOL §7, §10),
// and a refused message merges nothing. The "peer" here is a SimulatedTee driven through the
// node's own PeerClient, so each test breaks exactly one thing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keccak256, stringToHex, type Address } from "viem";
import { PeerCallError, PeerClient } from "../../enclave/cluster/peer-client.js";
import type { PeerInfo } from "../../enclave/cluster/peer-directory.js";
import { bytesToHex, hexToBytes } from "../../enclave/crypto/bytes.js";
import { ENCLAVER_LABEL, type EnvelopeLabel } from "../../enclave/crypto/envelope.js";
import { deriveInternalKey } from "../../enclave/crypto/kdf.js";
import { generateP384KeyPair, p384SpkiFromSec1 } from "../../enclave/crypto/p384.js";
import { openSealedMasterSecret } from "../../enclave/crypto/sealed-transfer.js";
import { VersionStatus } from "../../enclave/chain/types.js";
import { KvStore } from "../../enclave/store/kv-store.js";
import type { WireRecord } from "../../enclave/store/wire-format.js";
import { SimulatedTee, simulatedIdentity } from "../../enclave/tee/simulated.js";
import { registerDemoApp, type NodeProcess } from "../../scripts/cluster/index.js";
import { appRequest } from "../support/app-request.js";
import { waitFor } from "../support/kms-harness.js";
import { startClusterFixture, targetOf, waitForServing, type ClusterFixture } from "../support/process-cluster.js";

const SECRET_HEX = "5a".repeat(32);
const master = hexToBytes(SECRET_HEX);
const syncKey = deriveInternalKey(master, { kind: "sync-mac" });

let cluster: ClusterFixture;
let node: NodeProcess;
let nodePeer: PeerInfo;
let appTee: SimulatedTee;
let appId: bigint;

/** A KMS-like identity that can talk to the node over /sync (sealing under one label when given). */
function fakePeer(seed: string, label?: EnvelopeLabel) {
  const tee = new SimulatedTee({ seed, ...(label ? { envelopeLabels: [label] } : {}) });
  const wallet = simulatedIdentity(seed).wallet;
  const client = new PeerClient({ tee, ownWallet: wallet, timeoutMs: 5_000, policy: { enclaveMode: false } });
  return { tee, wallet, client, seed };
}

async function registerAsKmsInstance(seed: string, versionId: bigint): Promise<bigint> {
  const { admin, deployment } = cluster.chain;
  const identity = simulatedIdentity(seed);
  const id = await admin.registerInstance({
    appId: deployment.kmsAppId,
    versionId,
    teeWallet: identity.wallet as Address,
    teePubkey: identity.teePubkeySpkiHex,
    // Never contacted back: the real node's pushes to it simply fail.
    instanceUrl: "http://127.0.0.1:9",
  });
  await cluster.chain.admin.setZkVerified(id, true);
  return id;
}

/** A correctly sealed record for the demo app, written as if by `wallet`. */
function recordFrom(wallet: string, key: string, value: string): unknown[] {
  const store = new KvStore({
    nodeId: wallet,
    dataKey: (id) => deriveInternalKey(master, { kind: "kv-data", appId: id }),
  });
  store.put(appId, key, new TextEncoder().encode(value));
  return store.changesSince(0).records;
}

const delta = (records: unknown[]) => ({ type: "delta" as const, epoch: "test", from: 0, next: 1, records });
const visible = async (key: string) =>
  (await appRequest(targetOf(node), appTee, { method: "GET", path: `/kms/data/${key}` })).status === 200;

async function statusOf(promise: Promise<unknown>): Promise<number | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (e) {
    if (e instanceof PeerCallError) return e.status ?? -1;
    throw e;
  }
}

beforeAll(async () => {
  // One real node among registered stand-in peers that never answer pushes: its writes cannot reach a
  // quorum of two, and this file is about what /sync accepts, not about acknowledgements.
  cluster = await startClusterFixture("sync-security", {
    MASTER_SECRET_HEX: SECRET_HEX,
    AUTH_CACHE_TTL_SECONDS: "1",
    WRITE_QUORUM: "1",
  });
  node = await cluster.start("sec-node");
  await cluster.register(node);
  await waitForServing(node.url, 60_000);
  nodePeer = {
    wallet: node.wallet,
    url: node.url,
    teePublicKey: simulatedIdentity(node.seed).teePubkey,
    instanceId: 0n,
    versionId: 0n,
    versionStatus: 0,
  };
  const app = await registerDemoApp(cluster.chain.admin, { seed: "sec-app" });
  appTee = new SimulatedTee({ seed: app.seed });
  appId = app.appId;
});

afterAll(async () => {
  await cluster?.stop();
});

describe("/sync authentication", () => {
  it("accepts a delta from a member with the right HMAC (control)", async () => {
    const member = fakePeer("sec-member");
    await registerAsKmsInstance(member.seed, cluster.chain.deployment.kmsVersionId);
    const reply = await member.client.call(nodePeer, delta(recordFrom(member.wallet, "from-member", "ok")), {
      syncKey,
    });
    expect(reply.type).toBe("delta_ack");
    expect(reply.counts.inserted).toBe(1);
    expect(await visible("from-member")).toBe(true);
  });

  it("answers a peer on an enclaver runtime under its label (the reply opens with that label only)", async () => {
    const member = fakePeer("sec-member-enclaver", ENCLAVER_LABEL);
    await registerAsKmsInstance("sec-member-enclaver", cluster.chain.deployment.kmsVersionId);
    const reply = await member.client.call(nodePeer, delta(recordFrom(member.wallet, "from-enclaver-peer", "ok")), {
      syncKey,
    });
    expect(reply.type).toBe("delta_ack");
    expect(await visible("from-enclaver-peer")).toBe(true);
  });

  it("refuses a forged or missing HMAC with 403 and merges nothing", async () => {
    const member = fakePeer("sec-member");
    const forged = deriveInternalKey(hexToBytes("66".repeat(32)), { kind: "sync-mac" });
    expect(
      await statusOf(
        member.client.call(nodePeer, delta(recordFrom(member.wallet, "forged", "x")), { syncKey: forged }),
      ),
    ).toBe(403);
    expect(await statusOf(member.client.call(nodePeer, delta(recordFrom(member.wallet, "unsigned", "x"))))).toBe(403);
    expect(await visible("forged")).toBe(false);
    expect(await visible("unsigned")).toBe(false);
  });

  it("refuses a bad peer PoP (signature naming another recipient) with 403", async () => {
    const member = fakePeer("sec-member");
    const wrongRecipient = { ...nodePeer, wallet: "0x000000000000000000000000000000000000dead" };
    expect(
      await statusOf(member.client.call(wrongRecipient, delta(recordFrom(member.wallet, "bad-pop", "x")), { syncKey })),
    ).toBe(403);
    expect(await visible("bad-pop")).toBe(false);
  });

  it("refuses a peer that is not a registered KMS instance, even with the right HMAC", async () => {
    const stranger = fakePeer("sec-stranger");
    expect(
      await statusOf(stranger.client.call(nodePeer, delta(recordFrom(stranger.wallet, "stranger", "x")), { syncKey })),
    ).toBe(403);
    expect(await visible("stranger")).toBe(false);
  });

  it("refuses an instance of another app (a registered app, not a KMS node)", async () => {
    const appAsPeer = new PeerClient({
      tee: appTee,
      ownWallet: await appTee.address(),
      timeoutMs: 5_000,
      policy: { enclaveMode: false },
    });
    expect(await statusOf(appAsPeer.call(nodePeer, delta([]), { syncKey }))).toBe(403);
  });

  it("refuses a KMS instance whose version was revoked, within the cache TTL", async () => {
    const { admin, deployment } = cluster.chain;
    const versionId = await admin.enrollVersion({
      appId: deployment.kmsAppId,
      versionName: "soon-revoked",
      codeMeasurement: keccak256(stringToHex("rv")),
    });
    const revoked = fakePeer("sec-revoked");
    await registerAsKmsInstance(revoked.seed, versionId);
    expect(await statusOf(revoked.client.call(nodePeer, delta([]), { syncKey }))).toBe("ok");
    await admin.setVersionStatus(deployment.kmsAppId, versionId, VersionStatus.REVOKED);
    // AUTH_CACHE_TTL_SECONDS=1: refused within about a second of the revocation.
    await waitFor(
      async () => (await statusOf(revoked.client.call(nodePeer, delta([]), { syncKey }))) === 403,
      5_000,
      "revocation",
    );
    expect(
      await statusOf(revoked.client.call(nodePeer, delta(recordFrom(revoked.wallet, "revoked", "x")), { syncKey })),
    ).toBe(403);
    expect(await visible("revoked")).toBe(false);
  });
});

describe("a hostile member", () => {
  const putOnNode = (key: string, value: string) =>
    appRequest(targetOf(node), appTee, {
      method: "PUT",
      path: "/kms/data",
      body: { key, value: Buffer.from(value).toString("base64") },
    });

  /** The node's whole store as a peer pulls it, merged into a fresh replica; returns the replica and refusals. */
  async function pullInto(peer: ReturnType<typeof fakePeer>) {
    const replica = new KvStore({
      nodeId: simulatedIdentity("sec-honest-replica").wallet,
      dataKey: (id) => deriveInternalKey(master, { kind: "kv-data", appId: id }),
    });
    const refused: string[] = [];
    for (let cursor = 0; ; ) {
      const page = await peer.client.call(nodePeer, { type: "snapshot_request", cursor }, { syncKey });
      for (const o of replica.merge(page.records).outcomes) if (o.status === "rejected") refused.push(o.reason!);
      if (!page.more) return { replica, refused };
      cursor = page.next;
    }
  }

  it("cannot poison the node's clock: a tombstone with the node's entry at 2^53-1 is refused, and the node's writes still replicate", async () => {
    const hostile = fakePeer("sec-hostile-clock");
    await registerAsKmsInstance(hostile.seed, cluster.chain.deployment.kmsVersionId);
    expect((await putOnNode("poison-target", "kept")).status).toBe(200);
    const [record] = recordFrom(hostile.wallet, "poison-target", "x") as WireRecord[];
    const poison: WireRecord = {
      ...record!,
      tombstone: true,
      ciphertext: "",
      clock: { [hostile.wallet]: 1, [node.wallet]: Number.MAX_SAFE_INTEGER },
    };
    const reply = await hostile.client.call(nodePeer, delta([poison]), { syncKey });
    expect(reply.counts).toEqual({ inserted: 0, replaced: 0, concurrent: 0, ignored: 0, rejected: 1 });
    expect(await visible("poison-target")).toBe(true);
    // The node's next write is one every peer accepts.
    expect((await putOnNode("after-poison", "fresh")).status).toBe(200);
    const { replica, refused } = await pullInto(hostile);
    expect(refused).toEqual([]);
    expect(new TextDecoder().decode(replica.get(appId, "after-poison")?.value)).toBe("fresh");
    expect(new TextDecoder().decode(replica.get(appId, "poison-target")?.value)).toBe("kept");
  });
});

describe("master_secret_request", () => {
  const request = (peer: ReturnType<typeof fakePeer>) => {
    const key = generateP384KeyPair();
    return {
      key,
      call: peer.client.call(nodePeer, {
        type: "master_secret_request",
        ecdh_pubkey: bytesToHex(p384SpkiFromSec1(key.publicKey)),
      }),
    };
  };

  it("serves the secret, sealed, to an ENROLLED member (control)", async () => {
    const { key, call } = request(fakePeer("sec-member"));
    const reply = await call;
    expect(reply.status).toBe("ok");
    expect(bytesToHex(openSealedMasterSecret({ requesterPrivateKey: key.privateKey, sealed: reply.sealed }))).toBe(
      SECRET_HEX,
    );
  });

  it("refuses a member whose version is DEPRECATED", async () => {
    const { admin, deployment } = cluster.chain;
    const versionId = await admin.enrollVersion({
      appId: deployment.kmsAppId,
      versionName: "old",
      codeMeasurement: keccak256(stringToHex("old")),
    });
    const deprecated = fakePeer("sec-deprecated");
    await registerAsKmsInstance(deprecated.seed, versionId);
    await admin.setVersionStatus(deployment.kmsAppId, versionId, VersionStatus.DEPRECATED);
    expect(await statusOf(request(deprecated).call)).toBe(403);
  });

  it("refuses a non-member", async () => {
    expect(await statusOf(request(fakePeer("sec-outsider")).call)).toBe(403);
  });
});
