// The master-secret state machine against a scripted chain: the decisions it makes from the
// on-chain hash, what it holds and what peers return (the chain and peers are exercised for real
// in test/integration and test/cluster).
import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import {
  FRESH_PROPOSAL_GRACE_TICKS,
  MasterSecretManager,
  ZERO_HASH,
  masterSecretHashOf,
} from "../../../enclave/cluster/master-secret.js";
import { createLogger } from "../../../enclave/log.js";

/** A first-writer-wins hash slot with the manager's source interface. */
function scriptedChain(options: { peers?: number; peerSecret?: Uint8Array } = {}) {
  const chain = {
    hash: ZERO_HASH as Hex,
    submissions: 0,
    peers: options.peers ?? 0,
    sources: {
      readHash: async () => chain.hash,
      submitHash: async (hash: Hex) => {
        chain.submissions++;
        if (chain.hash !== ZERO_HASH) return { status: "refused" as const, reason: "already set" };
        chain.hash = hash;
        return { status: "mined" as const };
      },
      randomBytes: async (n: number) => crypto.getRandomValues(new Uint8Array(n)),
      peerCount: () => chain.peers,
      adoptFromPeers: async () =>
        options.peerSecret ? { secret: options.peerSecret, from: "http://peer.test" } : undefined,
    },
  };
  return chain;
}

const log = createLogger("silent");
const secretA = new Uint8Array(32).fill(1);
const secretB = new Uint8Array(32).fill(2);

describe("MasterSecretManager", () => {
  it("a lone node proposes at once and serves what the chain accepted", async () => {
    const chain = scriptedChain();
    const m = new MasterSecretManager(chain.sources, log);
    await m.tick();
    expect(m.status().ready).toBe(true);
    expect(masterSecretHashOf(m.secret!)).toBe(chain.hash);
    expect(m.status().origin).toBe("generated");
    expect(m.status().syncedFrom).toBeUndefined();
  });

  it("a node holding no secret waits a grace period before proposing when it has peers", async () => {
    const chain = scriptedChain({ peers: 2 });
    const m = new MasterSecretManager(chain.sources, log);
    for (let i = 0; i < FRESH_PROPOSAL_GRACE_TICKS; i++) await m.tick();
    expect(chain.submissions).toBe(0);
    expect(m.status().reason).toMatch(/time to propose/);
    await m.tick();
    expect(chain.submissions).toBe(1);
    expect(m.status().ready).toBe(true);
  });

  it("after a reset the holder proposes its own secret on the first tick", async () => {
    const chain = scriptedChain({ peers: 2 });
    const m = new MasterSecretManager(chain.sources, log, secretA);
    await m.tick();
    expect(chain.hash).toBe(masterSecretHashOf(secretA));
    chain.hash = ZERO_HASH; // owner reset
    await m.tick();
    expect(chain.hash).toBe(masterSecretHashOf(secretA));
    expect(m.status().ready).toBe(true);
  });

  it("adopts a peer's secret only when it matches the on-chain hash", async () => {
    const wrongPeer = scriptedChain({ peers: 1, peerSecret: secretB });
    wrongPeer.hash = masterSecretHashOf(secretA);
    const refuses = new MasterSecretManager(wrongPeer.sources, log);
    await refuses.tick();
    expect(refuses.status().ready).toBe(false);
    expect(refuses.secret).toBeUndefined();

    const rightPeer = scriptedChain({ peers: 1, peerSecret: secretA });
    rightPeer.hash = masterSecretHashOf(secretA);
    const adopts = new MasterSecretManager(rightPeer.sources, log);
    await adopts.tick();
    expect(adopts.status()).toMatchObject({ ready: true, origin: "peer", syncedFrom: "http://peer.test" });
  });

  it("stops serving when the chain names another secret, and tells listeners", async () => {
    const chain = scriptedChain();
    const m = new MasterSecretManager(chain.sources, log, secretA);
    const seen: Array<Uint8Array | undefined> = [];
    m.onChange((s) => seen.push(s));
    await m.tick();
    chain.hash = masterSecretHashOf(secretB);
    await m.tick();
    expect(m.status().ready).toBe(false);
    expect(seen).toEqual([secretA, undefined]);
  });
});
