// What the node serves with — the keys derived from the master secret and the KV store sealed under
// them — and the one rule that hands them out: keys only while the node serves, the KV store only
// once it has also caught up with its peers; otherwise 503 with the readiness reason. Records are
// sealed under keys of one secret, so a store lives and dies with its secret.
import type { Hex } from "viem";
import { masterSecretHashOf } from "./cluster/master-secret.js";
import { KmsError } from "./errors.js";
import type { ServingKeys } from "./serving-keys.js";
import type { KvStoreApi } from "./store/api.js";

export interface ServingStateOptions {
  makeKeys: (secret: Uint8Array) => ServingKeys;
  openStore: (keys: ServingKeys) => KvStoreApi;
  /** Readiness (enclave/readiness.ts): registered and holding keys / and caught up / why not. */
  serving: () => boolean;
  available: () => boolean;
  reason: () => string;
}

export class ServingState {
  private keys: ServingKeys | undefined;
  private kvStore: KvStoreApi | undefined;
  /** Hash of the secret the store was opened for (not a second copy of the secret). */
  private storeSecretHash: Hex | undefined;

  constructor(private readonly options: ServingStateOptions) {}

  /**
   * Switches to a new served secret (undefined: stop serving). The store is kept while the secret
   * stays the same (a pause in serving loses nothing); a different secret starts an empty store.
   * Returns the new store, if one was opened.
   */
  useSecret(secret: Uint8Array | undefined): KvStoreApi | undefined {
    if (!secret) {
      this.keys = undefined;
      return undefined;
    }
    const keys = this.options.makeKeys(secret);
    const hash = masterSecretHashOf(secret);
    let opened: KvStoreApi | undefined;
    if (!this.kvStore || this.storeSecretHash !== hash) {
      opened = this.options.openStore(keys);
      this.kvStore = opened;
      this.storeSecretHash = hash;
    }
    this.keys = keys;
    return opened;
  }

  /**
   * Replaces the store with an empty one for the same secret, because the one held missed deletes
   * (membership-lapse.ts, departed-stores.ts). Returns the new store; without keys to open one now,
   * the store is only dropped and the next secret opens a fresh one.
   */
  reopenStore(): KvStoreApi | undefined {
    if (!this.kvStore) return undefined;
    this.kvStore = this.keys ? this.options.openStore(this.keys) : undefined;
    if (!this.kvStore) this.storeSecretHash = undefined;
    return this.kvStore;
  }

  get holdsKeys(): boolean {
    return this.keys !== undefined;
  }

  /** The store of the current secret, whatever the readiness (stats, recovery bookkeeping). */
  get currentStore(): KvStoreApi | undefined {
    return this.kvStore;
  }

  /** Keys while serving, else undefined. */
  servingKeys(): ServingKeys | undefined {
    return this.options.serving() ? this.keys : undefined;
  }

  /** The store while serving (it may still be recovering: peers sync with it), else undefined. */
  servingStore(): KvStoreApi | undefined {
    return this.options.serving() ? this.kvStore : undefined;
  }

  /** Keys, or 503 naming why the node does not serve. */
  requireKeys(): ServingKeys {
    const keys = this.servingKeys();
    if (!keys) throw this.notReady();
    return keys;
  }

  /** The KV store once it has caught up with the peers, or 503. */
  requireStore(): KvStoreApi {
    const store = this.servingStore();
    if (!store) throw this.notReady();
    if (!this.options.available())
      throw new KmsError("service_unavailable", "KV store is recovering from peers; retry shortly");
    return store;
  }

  private notReady(): KmsError {
    return new KmsError("service_unavailable", `Service not ready: ${this.options.reason()}`);
  }
}
