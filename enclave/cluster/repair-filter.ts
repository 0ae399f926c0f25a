// Records that arrive through anti-entropy (digest replies and repairs), as opposed to deltas.
// A tombstone for a key this node holds no version of is dropped: either this node already
// collected it (every member had acknowledged it), and taking it back would only start the
// collection over and bounce it between nodes forever; or this node never saw the key, and the
// delete reaches it through the deleting node's acknowledged delta stream anyway (a tombstone
// is never collected before every member has acknowledged it).
import type { KvReplicaApi } from "../store/api.js";

export function dropUnknownTombstones(store: Pick<KvReplicaApi, "holdsKey">, records: readonly unknown[]): unknown[] {
  return records.filter((r) => {
    const record = r as { tombstone?: unknown; app_id?: unknown; key?: unknown };
    if (record?.tombstone !== true || typeof record.app_id !== "string" || typeof record.key !== "string") return true;
    if (!/^[0-9]{1,78}$/.test(record.app_id)) return true; // malformed: let merge reject it with a reason
    return store.holdsKey(BigInt(record.app_id), record.key);
  });
}
