// Cluster commits of named-key and secret changes (cluster/key-commits.ts) between three in-process
// nodes, each with its own KvStore, KeyRecords, LeaseTable and ClusterCommits. The transport is real
// but in-process: askLease calls the other node's LeaseTable and answers with that node's records
// of the resource (what node.ts answers to key_lease), after a macrotask so that concurrent askers
// really interleave; replicated() pushes the committing node's whole store into every peer that
// takes pushes and fails with insufficient_replicas below the number the commit needs.
import { describe, expect, it } from "vitest";
import { ClusterCommits } from "../../../enclave/cluster/key-commits.js";
import { LeaseTable } from "../../../enclave/cluster/key-leases.js";
import type { PeerInfo } from "../../../enclave/cluster/peer-directory.js";
import { KmsError } from "../../../enclave/errors.js";
import { KeyRecords, type Resource, reservedNamespaceOf, resourceId } from "../../../enclave/keys/key-records.js";
import { NamedKeys } from "../../../enclave/keys/named-keys.js";
import { Secrets } from "../../../enclave/keys/secrets.js";
import { keyEncryptionKey } from "../../../enclave/keys/wrap.js";
import { createLogger } from "../../../enclave/log.js";
import { KvStore } from "../../../enclave/store/kv-store.js";
import { cryptoRandom, KEY_MASTER, text, thrown } from "../keys/helpers.js";
import { dataKeys, ManualClock, nodeId, syncAll } from "../store/helpers.js";
import { DAY_MS } from "../../../enclave/keys/key-lifecycle.js";

const APP = 7n;
const aad = text("aad");
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface TestNode {
  wallet: string;
  store: KvStore;
  records: KeyRecords;
  leases: LeaseTable;
  keys: NamedKeys;
  secrets: Secrets;
  /** Lease asks and releases to this node fail (stopped, cut off). */
  unreachable: boolean;
  /** Pushes to this node are lost (it grants leases but never acknowledges the change). */
  dropPushes: boolean;
  /** Lease asks this node refused. */
  refusals: number;
  /** peersNeeded of every replicated() call of this node's commits. */
  replicatedNeeds: number[];
}

function cluster(size = 3) {
  const nodes: TestNode[] = [];
  /** The clock the key rules read (rotation and destroy times); stores keep the wall clock. */
  const clock = new ManualClock(Date.now());
  const refusalWaiters: Array<() => void> = [];
  const info = (n: TestNode): PeerInfo => ({
    wallet: n.wallet,
    url: `http://${n.wallet}`,
    teePublicKey: new Uint8Array(65),
    instanceId: 1n,
    versionId: 1n,
    versionStatus: 0,
  });
  const byWallet = (wallet: string) => nodes.find((n) => n.wallet === wallet)!;
  for (let i = 0; i < size; i++) {
    const wallet = nodeId(i);
    const store = new KvStore({ nodeId: wallet, dataKey: dataKeys() });
    const records = new KeyRecords(() => store);
    const leases = new LeaseTable();
    const self = (): TestNode => nodes[i]!;
    const commits = new ClusterCommits({
      self: wallet,
      leases,
      peers: () => nodes.filter((n) => n.wallet !== wallet).map(info),
      memberCount: () => size,
      askLease: async (peer: PeerInfo, resource: Resource, leaseId: string, ttlMs: number) => {
        await tick();
        const other = byWallet(peer.wallet);
        if (other.unreachable) throw new Error(`${peer.wallet} unreachable`);
        const granted = other.leases.tryGrant(resourceId(resource), wallet, leaseId, ttlMs);
        if (!granted) {
          other.refusals++;
          for (const wake of refusalWaiters.splice(0)) wake();
        }
        return { granted, records: new KeyRecords(() => other.store).wireRecords(resource) };
      },
      releaseLease: async (peer, resource, leaseId) => {
        const other = byWallet(peer.wallet);
        if (other.unreachable) throw new Error(`${peer.wallet} unreachable`);
        other.leases.release(resourceId(resource), leaseId);
      },
      merge: (records) => {
        store.merge(records);
      },
      replicated: async (_position, peersNeeded) => {
        self().replicatedNeeds.push(peersNeeded);
        let reached = 0;
        for (const other of nodes) {
          if (other === self() || other.unreachable || other.dropPushes) continue;
          syncAll(store, other.store);
          reached++;
        }
        if (reached < peersNeeded) throw new KmsError("insufficient_replicas", `${reached} of ${peersNeeded} peers`);
      },
      fresh: async () => {},
      log: createLogger("silent"),
    });
    const keys = new NamedKeys({
      records,
      commits,
      keyEncryptionKey: (appId, name) => keyEncryptionKey(KEY_MASTER, appId, name),
      random: cryptoRandom,
      now: clock.now,
      destroyDelayMs: 3_600_000,
    });
    nodes.push({
      wallet,
      store,
      records,
      leases,
      keys,
      secrets: new Secrets({ records, commits }),
      unreachable: false,
      dropPushes: false,
      refusals: 0,
      replicatedNeeds: [],
    });
  }
  /** Every store gets every other store's records (a full anti-entropy round). */
  const mergeEverywhere = () => {
    for (const from of nodes) for (const to of nodes) if (from !== to) syncAll(from.store, to.store);
  };
  const nextRefusal = () => new Promise<void>((resolve) => refusalWaiters.push(resolve));
  return { nodes, mergeEverywhere, nextRefusal, clock };
}

const versionsOf = (n: TestNode, name = "k") => n.records.readKey(APP, name)?.versions.map((v) => v.version);

describe("ClusterCommits between three in-process nodes", () => {
  it("a key created on one node is held by every member once the commit answers", async () => {
    const { nodes } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    expect(a.replicatedNeeds).toEqual([2]); // both granters, not just a majority
    const sealed = await a.keys.encrypt(APP, "k", text("hello"), aad);
    for (const n of [b, c]) {
      expect(versionsOf(n)).toEqual([1]);
      expect(await n.keys.decrypt(APP, sealed.ciphertext, aad)).toEqual({
        plaintext: text("hello"),
        key: "k",
        version: 1,
      });
    }
    for (const n of nodes) expect(n.leases.size).toBe(0);
  });

  it("two concurrent rotations on A and B both succeed with versions 2 and 3, and every node ends up with both", async () => {
    const { nodes, mergeEverywhere } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    const [fromA, fromB] = await Promise.all([a.keys.rotate(APP, "k"), b.keys.rotate(APP, "k")]);
    expect([fromA.primaryVersion, fromB.primaryVersion].sort()).toEqual([2, 3]);
    // They did collide (each held its own lease when the other asked), and one waited for the other.
    expect(a.refusals + b.refusals + c.refusals).toBeGreaterThanOrEqual(1);
    mergeEverywhere();
    for (const n of nodes) {
      const key = n.records.readKey(APP, "k")!;
      expect(key.versions.map((v) => [v.version, v.state])).toEqual([
        [1, "ENABLED"],
        [2, "ENABLED"],
        [3, "ENABLED"],
      ]);
      expect(key.primaryVersion).toBe(3);
      for (const v of [1, 2, 3]) expect(n.records.hasMaterial(APP, "k", v)).toBe(true);
      expect(n.leases.size).toBe(0);
    }
    // Version 2's material is the one its rotating node made: data under it opens on every node.
    await c.keys.update(APP, "k", { primaryVersion: 2 });
    const sealed = await c.keys.encrypt(APP, "k", text("under v2"), aad);
    expect(sealed.version).toBe(2);
    for (const n of [a, b])
      expect((await n.keys.decrypt(APP, sealed.ciphertext, aad)).plaintext).toEqual(text("under v2"));
  });

  it("two concurrent secret puts on two nodes get two different versions", async () => {
    const { nodes, mergeEverywhere } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const puts = await Promise.all([a.secrets.put(APP, "s", text("from a")), b.secrets.put(APP, "s", text("from b"))]);
    expect(puts.map((p) => p.version).sort()).toEqual([1, 2]);
    mergeEverywhere();
    const latest = puts.find((p) => p.version === 2)!;
    const latestValue = latest === puts[0] ? "from a" : "from b";
    for (const n of nodes) expect((await n.secrets.get(APP, "s")).value).toEqual(text(latestValue));
    expect((await c.secrets.get(APP, "s", 1)).value).toEqual(text(latestValue === "from a" ? "from b" : "from a"));
  });

  it("two rotations of one key queued on the same node make versions 2 and 3 in order", async () => {
    const { nodes } = cluster();
    const a = nodes[0]!;
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    const [first, second] = await Promise.all([a.keys.rotate(APP, "k"), a.keys.rotate(APP, "k")]);
    expect([first.primaryVersion, second.primaryVersion]).toEqual([2, 3]);
    for (const n of nodes) expect(versionsOf(n)).toEqual([1, 2, 3]);
  });

  it("a member holding a live lease refuses; the asker retries and succeeds once it is released", async () => {
    const { nodes, nextRefusal } = cluster();
    const [a, , c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    const rid = resourceId({ appId: APP, kind: "key", name: "k" });
    expect(c.leases.tryGrant(rid, `0x${"ee".repeat(20)}`, "held", 60_000)).toBe(true);
    const refused = nextRefusal();
    const rotation = a.keys.rotate(APP, "k");
    await refused;
    await tick(); // A has handled every answer and is backing off (≥ 10 ms) before it asks again
    expect(c.refusals).toBeGreaterThanOrEqual(1);
    // Refused: nothing was written anywhere yet, and A gave back what it had been granted.
    for (const n of nodes) expect(versionsOf(n)).toEqual([1]);
    expect(a.leases.size).toBe(0);
    c.leases.release(rid, "held");
    expect((await rotation).primaryVersion).toBe(2);
    for (const n of nodes) {
      expect(versionsOf(n)).toEqual([1, 2]);
      expect(n.leases.size).toBe(0);
    }
  });

  it("with both peers unreachable a commit fails with service_unavailable and writes nothing", async () => {
    const { nodes } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    b.unreachable = true;
    c.unreachable = true;
    const head = a.store.head;
    const needs = a.replicatedNeeds.length;
    const e = await thrown(() => a.keys.rotate(APP, "k"));
    expect(e).toBeInstanceOf(KmsError);
    expect((e as KmsError).code).toBe("service_unavailable");
    expect((e as KmsError).message).toBe("a key change needs a majority of the 3 members; 1 answered");
    expect(a.store.head).toBe(head);
    expect(versionsOf(a)).toEqual([1]);
    expect(a.replicatedNeeds).toHaveLength(needs);
    expect(a.leases.size).toBe(0);
    const secretFailure = await thrown(() => a.secrets.put(APP, "s", text("x")));
    expect((secretFailure as KmsError).code).toBe("service_unavailable");
    expect(a.store.head).toBe(head);
    expect(a.records.readSecret(APP, "s")).toBeUndefined();
  });

  it("one member down: a majority still commits, waiting for the one granter", async () => {
    const { nodes } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    c.unreachable = true;
    expect((await a.keys.rotate(APP, "k")).primaryVersion).toBe(2);
    expect(a.replicatedNeeds.at(-1)).toBe(1);
    expect(versionsOf(b)).toEqual([1, 2]);
    expect(versionsOf(c)).toEqual([1]);
  });

  it("a change is applied to the newest record a peer holds: B's version 2, unknown to A, makes A's rotation version 3", async () => {
    const { nodes } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    // A is cut off while B rotates with C's grant: A never hears of version 2.
    a.unreachable = true;
    expect((await b.keys.rotate(APP, "k")).primaryVersion).toBe(2);
    const underV2 = await b.keys.encrypt(APP, "k", text("v2 data"), aad);
    a.unreachable = false;
    expect(versionsOf(a)).toEqual([1]);
    expect(versionsOf(c)).toEqual([1, 2]);
    // A's rotation merges B's and C's records under the lease before it picks the next number.
    expect((await a.keys.rotate(APP, "k")).primaryVersion).toBe(3);
    for (const n of nodes) {
      expect(versionsOf(n)).toEqual([1, 2, 3]);
      expect(n.records.readKey(APP, "k")!.primaryVersion).toBe(3);
    }
    expect(await a.keys.decrypt(APP, underV2.ciphertext, aad)).toEqual({
      plaintext: text("v2 data"),
      key: "k",
      version: 2,
    });
  });

  it("a change the granters do not acknowledge answers insufficient_replicas but stays applied locally", async () => {
    const { nodes } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    b.dropPushes = true;
    c.dropPushes = true;
    const e = await thrown(() => a.keys.rotate(APP, "k"));
    expect((e as KmsError).code).toBe("insufficient_replicas");
    expect(a.replicatedNeeds.at(-1)).toBe(2);
    expect(versionsOf(a)).toEqual([1, 2]);
    expect(versionsOf(b)).toEqual([1]);
    for (const n of nodes) expect(n.leases.size).toBe(0);
    // The next change still builds on it: B learns version 2 from A's answer to its lease.
    b.dropPushes = false;
    c.dropPushes = false;
    expect((await b.keys.rotate(APP, "k")).primaryVersion).toBe(3);
    for (const n of nodes) expect(versionsOf(n)).toEqual([1, 2, 3]);
    expect(a.store.keys(reservedNamespaceOf(APP))).toEqual(["key/k/meta", "key/k/v/1", "key/k/v/2", "key/k/v/3"]);
  });

  it("scheduled rotation tried by every node at once makes exactly one version cluster-wide", async () => {
    const { nodes, clock } = cluster();
    const [a] = nodes as [TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt", rotationPeriodDays: 1 });
    clock.advance(DAY_MS);
    const outcomes = await Promise.all(nodes.map((n) => n.keys.rotateIfDue(APP, "k")));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    for (const n of nodes) {
      expect(versionsOf(n)).toEqual([1, 2]);
      expect(n.records.readKey(APP, "k")!.nextRotationAtMs).toBe(clock.t + DAY_MS);
    }
  });

  it("a destroy committed on one node is refused on every node at the destroy time, and erased once", async () => {
    const { nodes, clock } = cluster();
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    await a.keys.create(APP, { name: "k", purpose: "encrypt" });
    const old = await a.keys.encrypt(APP, "k", text("x"), aad);
    await b.keys.rotate(APP, "k");
    await c.keys.changeVersion(APP, "k", 1, "destroy");
    clock.advance(3_600_000);
    for (const n of nodes) {
      const e = await thrown(() => n.keys.decrypt(APP, old.ciphertext, aad));
      expect((e as Error).message).toBe("version 1 is DESTROYED");
    }
    const erased = await Promise.all(nodes.map((n) => n.keys.eraseDestroyed(APP, "k")));
    expect(erased.reduce((x, y) => x + y, 0)).toBe(1);
    for (const n of nodes) {
      expect(n.records.hasMaterial(APP, "k", 1)).toBe(false);
      expect(n.store.holdsKey(reservedNamespaceOf(APP), "key/k/v/1")).toBe(true);
      expect(n.records.hasMaterial(APP, "k", 2)).toBe(true);
    }
  });
});
