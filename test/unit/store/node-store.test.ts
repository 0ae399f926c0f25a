// What a node's store enforces comes from its configuration, and the configuration's defaults are the
// store's own: one number per limit, so tests of a bare store check what an unconfigured node does.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../enclave/config.js";
import { deriveInternalKey } from "../../../enclave/crypto/kdf.js";
import { openNodeStore } from "../../../enclave/node-store.js";
import { ServingKeys } from "../../../enclave/serving-keys.js";
import { KvStore } from "../../../enclave/store/kv-store.js";
import { DEFAULT_LIMITS, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_OVERFLOW } from "../../../enclave/store/limits.js";
import { MASTER, ManualClock, bytes, dataKeys, makeStore, nodeId } from "./helpers.js";

const APP = 42n;
const env = {
  SIMULATION_MODE: "true",
  CHAIN_RPC_URL: "http://127.0.0.1:8545",
  NOVA_APP_REGISTRY_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  KMS_REGISTRY_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  KMS_APP_ID: "1",
};

/** A record written by a peer whose wall clock runs `aheadMs` in front of real time. */
function recordFromTheFuture(aheadMs: number): unknown {
  const peer = makeStore(1, new ManualClock(Date.now() + aheadMs));
  peer.put(APP, "k", bytes("v"));
  return peer.changesSince(0).records[0];
}

/** The store a node opens with this environment; the in-memory one, so its settings can be read. */
function nodeStore(extraEnv: Record<string, string> = {}): KvStore {
  const store = openNodeStore(loadConfig({ ...env, ...extraEnv }), { nodeId: nodeId(0), dataKey: dataKeys() });
  if (!(store instanceof KvStore)) throw new Error("expected the in-memory KvStore");
  return store;
}

describe("the store a node opens", () => {
  it("rejects a record 45 s in the future with the default MAX_CLOCK_SKEW_MS (30 s), accepts one 20 s ahead", () => {
    const store = nodeStore();
    expect(store.merge([recordFromTheFuture(45_000)]).outcomes[0]).toMatchObject({
      status: "rejected",
      reason: "future_timestamp",
    });
    expect(store.merge([recordFromTheFuture(20_000)]).outcomes[0]).toMatchObject({ status: "inserted" });
  });

  it("enforces the configured MAX_CLOCK_SKEW_MS, not a default of its own", () => {
    const lenient = nodeStore({ MAX_CLOCK_SKEW_MS: "60000" });
    expect(lenient.merge([recordFromTheFuture(45_000)]).outcomes[0]).toMatchObject({ status: "inserted" });
    const strict = nodeStore({ MAX_CLOCK_SKEW_MS: "5000" });
    expect(strict.merge([recordFromTheFuture(20_000)]).outcomes[0]).toMatchObject({ reason: "future_timestamp" });
  });

  it("gets data keys from the node's ServingKeys, the one cache of them (each app's key derived once)", () => {
    const keys = new ServingKeys(MASTER);
    expect(keys.dataKey(APP)).toBe(keys.dataKey(APP));
    expect(keys.dataKey(APP)).toEqual(deriveInternalKey(MASTER, { kind: "kv-data", appId: APP }));
  });

  it("takes every configured limit and the overflow policy", () => {
    const store = nodeStore({
      KV_OVERFLOW: "reject",
      KV_MAX_BYTES_PER_APP: "4096",
      KV_MAX_KEYS_PER_APP: "3",
      KV_MAX_VALUE_BYTES: "100",
      KV_MAX_KEY_BYTES: "16",
    });
    expect(store.overflow).toBe("reject");
    expect(store.limits).toMatchObject({ maxBytesPerApp: 4096, maxKeysPerApp: 3, maxValueBytes: 100, maxKeyBytes: 16 });
  });
});

describe("one source for every KV default", () => {
  it("an unconfigured node's store enforces exactly what a store built without options does", () => {
    const bare = new KvStore({ nodeId: nodeId(0), dataKey: dataKeys() });
    const node = nodeStore();
    expect(node.limits).toEqual(bare.limits);
    expect(node.limits).toEqual(DEFAULT_LIMITS);
    expect(node.overflow).toBe(bare.overflow);
    expect(node.overflow).toBe(DEFAULT_OVERFLOW);
  });

  it("the config defaults are the store's defaults", () => {
    const config = loadConfig(env);
    expect(config.KV_MAX_BYTES_PER_APP).toBe(DEFAULT_LIMITS.maxBytesPerApp);
    expect(config.KV_MAX_KEYS_PER_APP).toBe(DEFAULT_LIMITS.maxKeysPerApp);
    expect(config.KV_MAX_VALUE_BYTES).toBe(DEFAULT_LIMITS.maxValueBytes);
    expect(config.KV_MAX_KEY_BYTES).toBe(DEFAULT_LIMITS.maxKeyBytes);
    expect(config.KV_OVERFLOW).toBe(DEFAULT_OVERFLOW);
    expect(config.MAX_CLOCK_SKEW_MS).toBe(DEFAULT_MAX_CLOCK_SKEW_MS);
  });

  it("a store built without options rejects a record 45 s in the future, as an unconfigured node does", () => {
    const bare = new KvStore({ nodeId: nodeId(0), dataKey: dataKeys() });
    expect(bare.merge([recordFromTheFuture(45_000)]).outcomes[0]).toMatchObject({ reason: "future_timestamp" });
  });
});
