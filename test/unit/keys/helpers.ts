// One node's named keys and secrets over a real KvStore (the app's reserved namespace) and a real
// ClusterCommits with no peers: a single-member cluster, so every commit takes only the local lease
// and needs no replica. Shared by the named-keys and secrets tests.
import { randomBytes } from "node:crypto";
import { ClusterCommits } from "../../../enclave/cluster/key-commits.js";
import { LeaseTable } from "../../../enclave/cluster/key-leases.js";
import { KeyRecords } from "../../../enclave/keys/key-records.js";
import type { RandomSource } from "../../../enclave/keys/material.js";
import { NamedKeys } from "../../../enclave/keys/named-keys.js";
import { Secrets } from "../../../enclave/keys/secrets.js";
import { keyEncryptionKey } from "../../../enclave/keys/wrap.js";
import { createLogger } from "../../../enclave/log.js";
import { KvStore, type KvStoreOptions } from "../../../enclave/store/kv-store.js";
import { dataKeys, ManualClock } from "../store/helpers.js";

export const KEY_MASTER = new Uint8Array(32).fill(3);
export const NODE_ID = `0x${"11".repeat(20)}`;
export const HOUR = 3_600_000;
export const text = (s: string) => new TextEncoder().encode(s);
export const cryptoRandom: RandomSource = async (n) => new Uint8Array(randomBytes(n));

export interface SingleNodeOptions {
  random?: RandomSource;
  destroyDelayMs?: number;
  store?: Partial<KvStoreOptions>;
}

export function singleNode(options: SingleNodeOptions = {}) {
  const clock = new ManualClock();
  const store = new KvStore({ nodeId: NODE_ID, dataKey: dataKeys(), now: clock.now, ...options.store });
  const records = new KeyRecords(() => store);
  const leases = new LeaseTable(clock.now);
  const replicatedCalls: Array<[number, number]> = [];
  const commits = new ClusterCommits({
    self: NODE_ID,
    leases,
    peers: () => [],
    memberCount: () => 1,
    askLease: () => {
      throw new Error("askLease called in a single-member cluster");
    },
    releaseLease: () => {
      throw new Error("releaseLease called in a single-member cluster");
    },
    merge: (r) => {
      store.merge(r);
    },
    replicated: async (position, peersNeeded) => {
      replicatedCalls.push([position, peersNeeded]);
    },
    fresh: async () => {},
    log: createLogger("silent"),
  });
  const keys = new NamedKeys({
    records,
    commits,
    keyEncryptionKey: (appId, name) => keyEncryptionKey(KEY_MASTER, appId, name),
    random: options.random ?? cryptoRandom,
    now: clock.now,
    destroyDelayMs: options.destroyDelayMs ?? HOUR,
  });
  const secrets = new Secrets({ records, commits, now: clock.now });
  return { clock, store, records, leases, commits, keys, secrets, replicatedCalls };
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}
