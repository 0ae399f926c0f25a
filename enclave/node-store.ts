// The KV store a node opens for one master secret, configured from the environment. Kept in one
// function so that what the node enforces (quotas, clock skew, overflow) is what its tests check.
import type { Config } from "./config.js";
import type { KvStoreApi } from "./store/api.js";
import { KvStore } from "./store/kv-store.js";

export type StoreConfig = Pick<
  Config,
  | "KV_OVERFLOW"
  | "MAX_CLOCK_SKEW_MS"
  | "KV_MAX_BYTES_PER_APP"
  | "KV_MAX_KEYS_PER_APP"
  | "KV_MAX_VALUE_BYTES"
  | "KV_MAX_KEY_BYTES"
>;

export interface NodeStoreIdentity {
  /** This node's wallet, lower-case. */
  nodeId: string;
  /** The app's KV data key, derived from the served master secret. */
  dataKey: (appId: bigint) => Uint8Array;
}

export function openNodeStore(config: StoreConfig, { nodeId, dataKey }: NodeStoreIdentity): KvStoreApi {
  return new KvStore({
    nodeId,
    dataKey,
    overflow: config.KV_OVERFLOW,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_MS,
    limits: {
      maxBytesPerApp: config.KV_MAX_BYTES_PER_APP,
      maxKeysPerApp: config.KV_MAX_KEYS_PER_APP,
      maxValueBytes: config.KV_MAX_VALUE_BYTES,
      maxKeyBytes: config.KV_MAX_KEY_BYTES,
    },
  });
}
