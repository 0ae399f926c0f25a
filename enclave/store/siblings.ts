// The state of one key is the set of its versions that nothing supersedes (usually exactly one;
// several only after concurrent writes on different nodes, until the next local write joins them).
// Merging = keep the maximal elements of the union. That is a join-semilattice: commutative,
// associative and idempotent for any inputs, so replicas converge whatever the delivery order.
// A pick-the-winner register would not be: when wall clocks disagree with causality, "dominance,
// then timestamp" is not transitive and the result would depend on arrival order.
import { type RecordVersion, sameVersion, supersedes, tiebreak } from "./record.js";

export type MergeKind = "ignored" | "replaced" | "concurrent";

export interface SiblingMerge {
  kind: MergeKind;
  versions: RecordVersion[];
}

/** Sorted so that versions[0] is the visible one (tie-break winner among the concurrent set). */
export function sortSiblings(versions: RecordVersion[]): RecordVersion[] {
  return versions.sort((a, b) => tiebreak(b, a));
}

export function mergeSibling(current: readonly RecordVersion[], incoming: RecordVersion): SiblingMerge {
  for (const v of current) {
    if (sameVersion(v, incoming) || supersedes(v, incoming)) return { kind: "ignored", versions: current.slice() };
  }
  const kept = current.filter((v) => !supersedes(incoming, v));
  const kind: MergeKind = kept.length === 0 ? "replaced" : "concurrent";
  kept.push(incoming);
  return { kind, versions: sortSiblings(kept) };
}
