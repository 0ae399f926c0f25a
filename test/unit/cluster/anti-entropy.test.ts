// Anti-entropy repairs what deltas missed. Two stores and their SyncHandlers talk through an
// in-process transport that acknowledges every delta WITHOUT merging it (a lost delta), so only
// the roots → digest → repair exchange can make the replicas converge. The HTTP transport itself
// is exercised by the cluster tests.
import { describe, expect, it } from "vitest";
import type { PeerClient } from "../../../enclave/cluster/peer-client.js";
import type { PeerInfo } from "../../../enclave/cluster/peer-directory.js";
import { Replicator } from "../../../enclave/cluster/replicator.js";
import { SyncHandler, differingApps } from "../../../enclave/cluster/sync-handler.js";
import { syncMessage } from "../../../enclave/cluster/sync-messages.js";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { createLogger } from "../../../enclave/log.js";
import type { KvStore } from "../../../enclave/store/kv-store.js";
import { ManualClock, bytes, makeStore, nodeId } from "../store/helpers.js";
import { waitFor } from "../../support/kms-harness.js";

const log = createLogger("silent");

function peerInfo(i: number): PeerInfo {
  return {
    wallet: nodeId(i),
    url: `mem://${i}`,
    teePublicKey: new Uint8Array(97),
    instanceId: BigInt(i),
    versionId: 1n,
    versionStatus: 0,
  };
}

/** Routes calls to the addressed node's handler; deltas are acknowledged but dropped. */
function lossyTransport(nodes: Map<string, { store: KvStore; handler: SyncHandler }>, from: string): PeerClient {
  const caller = {
    wallet: from,
    instanceId: 1n,
    appId: 1n,
    versionId: 1n,
    versionStatus: 0,
    instanceUrl: "",
    teePublicKey: new Uint8Array(),
  } as RegisteredCaller;
  return {
    call: async (peer: PeerInfo, inner: Record<string, unknown>) => {
      const target = nodes.get(peer.wallet)!;
      const message = syncMessage.parse({ ...inner, sender_wallet: from });
      if (message.type === "delta") return { type: "delta_ack", epoch: target.store.epoch, counts: {} };
      return target.handler.handle(message, caller);
    },
  } as unknown as PeerClient;
}

describe("anti-entropy", () => {
  it("differingApps lists apps whose roots differ or that one side lacks", () => {
    expect(differingApps({ "1": "a", "2": "b", "3": "c" }, { "1": "a", "2": "x", "4": "d" })).toEqual(["2", "3", "4"]);
    expect(differingApps({ "1": "a" }, { "1": "a" })).toEqual([]);
  });

  it("repairs both directions when deltas were lost", async () => {
    const clock = new ManualClock(Date.now());
    const nodes = new Map<string, { store: KvStore; handler: SyncHandler }>();
    for (const i of [0, 1]) {
      const store = makeStore(i, clock);
      nodes.set(nodeId(i), {
        store,
        handler: new SyncHandler({
          store: () => store,
          masterSecret: () => undefined,
          storeRecovered: () => true,
          log,
        }),
      });
    }
    const [a, b] = [nodes.get(nodeId(0))!.store, nodes.get(nodeId(1))!.store];
    for (let k = 0; k < 50; k++) a.put(BigInt(k % 3), `a-${k}`, bytes(`from a ${k}`));
    for (let k = 0; k < 20; k++) b.put(7n, `b-${k}`, bytes(`from b ${k}`));
    a.put(1n, "shared", bytes("a's version"));
    b.delete(7n, "b-3");
    expect(a.canonicalDump()).not.toBe(b.canonicalDump());

    const replicatorOf = (i: number, peer: number) =>
      new Replicator({
        store: () => nodes.get(nodeId(i))!.store,
        syncKey: () => new Uint8Array(32),
        peers: () => [peerInfo(peer)],
        client: lossyTransport(nodes, nodeId(i)),
        log,
        antiEntropyEvery: 1,
      });
    const ra = replicatorOf(0, 1);
    ra.beginRecovery(a.epoch, false);
    const rb = replicatorOf(1, 0);
    rb.beginRecovery(b.epoch, false);
    const idle = (r: Replicator) => [...r.peerStates().values()].every((s) => !s.inFlight);

    await waitFor(
      async () => {
        await ra.round();
        await rb.round();
        await waitFor(() => idle(ra) && idle(rb), 5_000, "rounds finished");
        return a.canonicalDump() === b.canonicalDump();
      },
      10_000,
      "replicas converge through anti-entropy alone",
    );
    expect(b.get(1n, "shared")?.value).toEqual(bytes("a's version"));
    expect(a.get(7n, "b-3")).toBeUndefined();
    expect(a.keys(7n)).toHaveLength(19);
  });
});
