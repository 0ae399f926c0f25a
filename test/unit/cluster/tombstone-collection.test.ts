// Tombstone collection and the members it does not wait for. Three simulated members (store,
// SyncHandler, Replicator each) talk through an in-process transport that refuses non-members the
// way /sync does, with anti-entropy every round: a member that cannot be contacted holds collection
// back, and a member that comes back after a collection it missed cannot bring a deleted key back.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { DepartedStores } from "../../../enclave/cluster/departed-stores.js";
import { MembershipLapse } from "../../../enclave/cluster/membership-lapse.js";
import { PeerCallError, type PeerClient } from "../../../enclave/cluster/peer-client.js";
import type { PeerInfo } from "../../../enclave/cluster/peer-directory.js";
import { Replicator } from "../../../enclave/cluster/replicator.js";
import { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import { type SyncMessageType, syncMessage, syncReplies } from "../../../enclave/cluster/sync-messages.js";
import { KmsError } from "../../../enclave/errors.js";
import { createLogger } from "../../../enclave/log.js";
import type { KvStore } from "../../../enclave/store/kv-store.js";
import { waitFor } from "../../support/kms-harness.js";
import { ManualClock, bytes, makeStore, nodeId } from "../store/helpers.js";

const log = createLogger("silent");
const APP = 3n;

interface Member {
  index: number;
  wallet: string;
  store: KvStore;
  replicator: Replicator;
  departed: DepartedStores;
  rebuilds: number;
}

/**
 * A cluster of simulated members. `members` is the registry's membership; `unreachable` lists, per
 * member, the wallets it cannot dial (excluded by its URL policy); stores are rebuilt on request the
 * way the node does it (a fresh store, recovered from a peer snapshot).
 */
class SimCluster {
  readonly clock = new ManualClock(Date.now());
  readonly nodes: Member[] = [];
  readonly members = new Set<string>();
  readonly unreachable = new Map<string, Set<string>>();
  private readonly handlers = new Map<string, SyncHandler>();

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.add(i);
  }

  private add(index: number): void {
    const wallet = nodeId(index);
    const departed = new DepartedStores();
    const member = { index, wallet, store: makeStore(index, this.clock), departed, rebuilds: 0 } as Member;
    const handler = new SyncHandler({
      store: () => member.store,
      masterSecret: () => undefined,
      storeRecovered: () => member.replicator.isRecovered(member.store.epoch),
      departed,
      log,
    });
    member.replicator = new Replicator({
      store: () => member.store,
      syncKey: () => new Uint8Array(32),
      peers: () => this.peersOf(wallet),
      members: () => [...this.members].filter((w) => w !== wallet),
      departed,
      onStaleStore: () => {
        member.rebuilds++;
        member.store = makeStore(index, this.clock);
        member.replicator.beginRecovery(member.store.epoch, true);
      },
      staleStoreMinAgeMs: 0,
      client: this.transport(wallet),
      log,
      antiEntropyEvery: 1,
    });
    member.replicator.beginRecovery(member.store.epoch, false);
    this.handlers.set(wallet, handler);
    this.nodes.push(member);
    this.members.add(wallet);
  }

  private peersOf(wallet: string): PeerInfo[] {
    const cannot = this.unreachable.get(wallet) ?? new Set();
    return [...this.members]
      .filter((w) => w !== wallet && !cannot.has(w))
      .map((w, i) => ({
        wallet: w,
        url: `mem://${w}`,
        teePublicKey: new Uint8Array(97),
        instanceId: BigInt(i),
        versionId: 1n,
        versionStatus: 0,
      }));
  }

  /** Routes a call to the addressed member's handler; like /sync, only members may call or answer. */
  private transport(from: string): PeerClient {
    const caller = { wallet: from } as RegisteredCaller;
    return {
      call: async (peer: PeerInfo, inner: { type: SyncMessageType }) => {
        if (!this.members.has(from) || !this.members.has(peer.wallet))
          throw new PeerCallError(peer.wallet, 403, "not a member");
        const message = syncMessage.parse({ ...inner, sender_wallet: from });
        try {
          return syncReplies[inner.type].parse(await this.handlers.get(peer.wallet)!.handle(message, caller));
        } catch (e) {
          // As the PeerClient reports a refusal: with its HTTP status.
          if (e instanceof KmsError) throw new PeerCallError(peer.wallet, e.status, e.message);
          throw e;
        }
      },
    } as unknown as PeerClient;
  }

  /** One replication round on each listed member (default: every member), waiting for its pushes. */
  async round(who: Member[] = this.nodes.filter((n) => this.members.has(n.wallet))): Promise<void> {
    for (const n of who) {
      await n.replicator.round();
      await waitFor(() => [...n.replicator.peerStates().values()].every((s) => !s.inFlight), 5_000, "pushes done");
    }
  }

  /** Runs rounds until `done`, checking `invariant` after each one. */
  async until(done: () => boolean, invariant: () => void = () => {}, maxRounds = 30): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      await this.round();
      invariant();
      if (done()) return;
    }
    throw new Error("the cluster did not get there");
  }

  /**
   * A member back in the membership. One that noticed its lapse re-checks its store with a peer
   * before serving it (what the node does on MembershipLapse); one that was paused throughout did not.
   */
  rejoin(member: Member, noticed: boolean): void {
    this.members.add(member.wallet);
    if (!noticed) return;
    member.departed.clear();
    member.replicator.beginRecovery(member.store.epoch, true);
  }

  converged(): boolean {
    const live = this.nodes.filter((n) => this.members.has(n.wallet));
    return live.every((n) => n.store.canonicalDump() === live[0]!.store.canonicalDump());
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("tombstone collection", () => {
  it("waits for a member this node cannot contact: the tombstone stays until that member has it", async () => {
    const c = new SimCluster(3);
    const [a, b, m] = c.nodes as [Member, Member, Member];
    a.store.put(APP, "k", bytes("v"));
    await c.until(() => c.converged() && m.store.holdsKey(APP, "k"));
    // A and B cannot dial M (say its registered URL fails their policy); M is still a member.
    c.unreachable.set(a.wallet, new Set([m.wallet]));
    c.unreachable.set(b.wallet, new Set([m.wallet]));
    b.store.delete(APP, "k");
    for (let i = 0; i < 10; i++) await c.round([a, b]);
    expect(a.store.appStats(APP).tombstones).toBe(1);
    expect(b.store.appStats(APP).tombstones).toBe(1);
    // Reachable again: M receives the delete, acknowledges, and only then is the tombstone dropped.
    c.unreachable.clear();
    await c.until(
      () => c.nodes.every((n) => n.store.stats().tombstones === 0),
      () => {
        for (const n of [a, b]) if (!n.store.holdsKey(APP, "k")) expect(m.store.get(APP, "k")).toBeUndefined();
      },
    );
    for (const n of c.nodes) expect(n.store.holdsKey(APP, "k")).toBe(false);
  });

  it.each([
    ["noticed its lapse", true],
    ["was paused throughout", false],
  ])(
    "a member back after a collection it missed (and %s) brings no deleted key back, and rebuilds its store",
    async (_, noticed) => {
      const c = new SimCluster(3);
      const [a, b, m] = c.nodes as [Member, Member, Member];
      a.store.put(APP, "deleted", bytes("old"));
      a.store.put(APP, "kept", bytes("k"));
      await c.until(() => c.converged() && m.store.holdsKey(APP, "deleted"));
      const staleEpoch = m.store.epoch;
      // M is STOPPED: A and B stop waiting for it, and collect the delete it never received.
      c.members.delete(m.wallet);
      b.store.delete(APP, "deleted");
      await c.until(() => [a, b].every((n) => n.store.stats().tombstones === 0 && !n.store.holdsKey(APP, "deleted")));
      // Back in the membership with the store it had, still holding the deleted key.
      c.rejoin(m, noticed);
      expect(m.store.get(APP, "deleted")).toBeDefined();
      // One that noticed serves nothing from that store: its KV API stays closed until a peer answered.
      expect(m.replicator.isRecovered(staleEpoch)).toBe(!noticed);
      const neverBack = () => {
        expect(a.store.holdsKey(APP, "deleted")).toBe(false);
        expect(b.store.holdsKey(APP, "deleted")).toBe(false);
        if (m.store.epoch === staleEpoch && noticed) expect(m.replicator.isRecovered(staleEpoch)).toBe(false);
      };
      await c.until(() => m.rebuilds > 0 && m.replicator.isRecovered(m.store.epoch) && c.converged(), neverBack);
      expect(m.rebuilds).toBe(1);
      expect(m.store.epoch).not.toBe(staleEpoch);
      for (const n of c.nodes) {
        expect(n.store.get(APP, "deleted")).toBeUndefined();
        expect(n.store.get(APP, "kept")?.value).toEqual(bytes("k"));
      }
      // Its later writes replicate as usual.
      m.store.put(APP, "after-rebuild", bytes("ok"));
      await c.until(() => c.converged());
      expect(a.store.get(APP, "after-rebuild")?.value).toEqual(bytes("ok"));
    },
  );

  it("when every member lapsed together, nobody collected anything: stores are kept, not rebuilt", async () => {
    const c = new SimCluster(3);
    c.nodes[0]!.store.put(APP, "k", bytes("v"));
    await c.until(() => c.converged() && c.nodes.every((n) => n.store.holdsKey(APP, "k")));
    const epochs = c.nodes.map((n) => n.store.epoch);
    c.members.clear();
    for (const n of c.nodes) c.rejoin(n, true);
    await c.until(() => c.nodes.every((n) => n.replicator.isRecovered(n.store.epoch)));
    expect(c.nodes.map((n) => [n.rebuilds, n.store.epoch])).toEqual(epochs.map((e) => [0, e]));
    for (const n of c.nodes) expect(n.store.get(APP, "k")?.value).toEqual(bytes("v"));
  });

  it("two members back from overlapping lapses, each having collected meanwhile, do not both rebuild", async () => {
    const c = new SimCluster(2);
    const [a, b] = c.nodes as [Member, Member];
    for (const key of ["k", "x1", "x2"]) a.store.put(APP, key, bytes("v"));
    await c.until(() => c.converged() && b.store.holdsKey(APP, "x2"));
    // A lapses; B, alone, deletes x1 and collects it.
    c.members.delete(a.wallet);
    b.store.delete(APP, "x1");
    await c.round([b]);
    expect(b.store.holdsKey(APP, "x1")).toBe(false);
    // A comes back and starts its check; before that has run, B lapses, and A deletes and collects x2.
    c.rejoin(a, true);
    c.members.delete(b.wallet);
    a.store.delete(APP, "x2");
    await c.round([a]);
    expect(a.store.holdsKey(APP, "x2")).toBe(false);
    c.rejoin(b, true);
    await c.until(() => c.nodes.every((n) => n.replicator.isRecovered(n.store.epoch)) && c.converged());
    // B lapsed after A's verdict about it was formed, so only A's stands: B rebuilds from A, and
    // nothing A held is lost. (x1, deleted while A was away, comes back: B's own lapse voided B's
    // knowledge of it — the price of never letting two stale stores erase each other.)
    expect(c.nodes.map((n) => n.rebuilds)).toEqual([0, 1]);
    for (const n of c.nodes) {
      expect(n.store.get(APP, "k")?.value).toEqual(bytes("v"));
      expect(n.store.holdsKey(APP, "x2")).toBe(false);
    }
  });

  it("a store younger than the minimum age is not rebuilt on a peer's word", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_700_000_000_000);
    const store = makeStore(0, new ManualClock());
    let rebuilds = 0;
    const liar = {
      call: async (_peer: PeerInfo, inner: { type: SyncMessageType }) =>
        inner.type === "delta"
          ? { type: "delta_ack", epoch: "liar", counts: {}, stale_store: true }
          : { type: "roots_reply", differing: [], stale_store: true },
    } as unknown as PeerClient;
    const peer = { wallet: nodeId(1), url: "mem://1", teePublicKey: new Uint8Array(97) } as PeerInfo;
    const replicator = new Replicator({
      store: () => store,
      syncKey: () => new Uint8Array(32),
      peers: () => [peer],
      onStaleStore: () => rebuilds++,
      staleStoreMinAgeMs: 60_000,
      client: liar,
      log,
      antiEntropyEvery: 1,
    });
    replicator.beginRecovery(store.epoch, false);
    const idle = () => [...replicator.peerStates().values()].every((s) => !s.inFlight);
    await replicator.round();
    await waitFor(idle, 5_000, "round done");
    expect(rebuilds).toBe(0);
    vi.setSystemTime(1_700_000_000_000 + 60_000);
    for (let i = 0; i < 3; i++) {
      await replicator.round();
      await waitFor(idle, 5_000, "round done");
    }
    // Once old enough it is rebuilt, and once per store.
    expect(rebuilds).toBe(1);
  });
});

describe("DepartedStores", () => {
  it("calls a store departed once this node collected while its member was away, until a new store", () => {
    const d = new DepartedStores();
    d.saw("0xa", "e1");
    d.saw("0xb", "e2");
    d.membership(["0xb"]);
    // Away, but nothing collected yet: nothing missed.
    expect(d.isDeparted("0xa", "e1")).toBe(false);
    d.collected();
    expect(d.isDeparted("0xa", "e1")).toBe(true);
    expect(d.isDeparted("0xa", "e9")).toBe(false);
    expect(d.isDeparted("0xa", undefined)).toBe(false);
    expect(d.isDeparted("0xb", "e2")).toBe(false);
    // Back with the old store: still departed. A new store ends it.
    d.membership(["0xa", "0xb"]);
    d.saw("0xa", "e1");
    expect(d.isDeparted("0xa", "e1")).toBe(true);
    d.saw("0xa", "e3");
    expect(d.isDeparted("0xa", "e1")).toBe(false);
  });

  it("a member back before any collection missed nothing, even when this node collects later", () => {
    const d = new DepartedStores();
    d.saw("0xa", "e1");
    d.membership([]);
    d.membership(["0xa"]);
    d.collected();
    expect(d.isDeparted("0xa", "e1")).toBe(false);
  });

  it("forgets every verdict when this node's own store is no longer the one that collected", () => {
    const d = new DepartedStores();
    d.saw("0xa", "e1");
    d.membership([]);
    d.collected();
    d.clear();
    expect(d.isDeparted("0xa", "e1")).toBe(false);
  });
});

describe("MembershipLapse", () => {
  it("reports a return once, after the node was a member and then was not", () => {
    const lapse = new MembershipLapse();
    expect([false, true, true].map((m) => lapse.observe(m))).toEqual([false, false, false]);
    expect([false, false, true, true].map((m) => lapse.observe(m))).toEqual([false, false, true, false]);
  });
});
