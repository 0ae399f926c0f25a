// Shared fixtures for store tests: deterministic node ids, data keys from a fixed master secret, and
// a manual clock.
import { deriveInternalKey } from "../../../enclave/crypto/kdf.js";
import { KvStore, type KvStoreOptions } from "../../../enclave/store/kv-store.js";

export const MASTER = new Uint8Array(32).fill(7);

export function nodeId(i: number): string {
  return `0x${(i + 1).toString(16).padStart(40, "0")}`;
}

/** A cached data-key source, as the node's ServingKeys is (the store asks on every seal and open). */
export function dataKeys(master: Uint8Array = MASTER): (appId: bigint) => Uint8Array {
  const cache = new Map<bigint, Uint8Array>();
  return (appId) => {
    let key = cache.get(appId);
    if (!key) {
      key = deriveInternalKey(master, { kind: "kv-data", appId });
      cache.set(appId, key);
    }
    return key;
  };
}

export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function makeStore(i: number, clock: ManualClock, extra: Partial<KvStoreOptions> = {}): KvStore {
  return new KvStore({ nodeId: nodeId(i), dataKey: dataKeys(), now: clock.now, ...extra });
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

/** Pulls everything `from` has into `to` through the change feed in small batches. */
export function syncAll(from: KvStore, to: KvStore, position = 0): number {
  let pos = position;
  for (;;) {
    const batch = from.changesSince(pos, { maxRecords: 7 });
    to.merge(batch.records);
    pos = batch.next;
    if (!batch.more) return pos;
  }
}
