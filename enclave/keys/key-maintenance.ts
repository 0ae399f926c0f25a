// The scheduled side of named keys, run every KEY_MAINTENANCE_INTERVAL_MS: rotates keys whose
// `next_rotation_at_ms` has passed and erases the material of versions whose destroy time has
// passed. Every node may run it; the lease and the re-check under it (NamedKeys.rotateIfDue,
// eraseDestroyed) make the outcome one version / one erasure cluster-wide however many try. To
// keep nodes from queueing on the same leases, a node leaves a due key to the preferred member
// (the lowest wallet that answers) until it is overdue by a few intervals.
import type { Logger } from "../log.js";
import { isDueForDestruction, isDueForRotation } from "./key-lifecycle.js";
import type { KeyRecords } from "./key-records.js";
import type { NamedKeys } from "./named-keys.js";

export interface KeyMaintenanceOptions {
  keys: Pick<NamedKeys, "rotateIfDue" | "eraseDestroyed">;
  records: KeyRecords;
  /** Whether this node is the member that should act first. */
  preferred(): boolean;
  intervalMs: number;
  log: Logger;
  now?: () => number;
}

export interface MaintenanceOutcome {
  rotated: number;
  erased: number;
  failed: number;
}

export async function maintainKeys(options: KeyMaintenanceOptions): Promise<MaintenanceOutcome> {
  const now = (options.now ?? Date.now)();
  const graceMs = options.preferred() ? 0 : 3 * options.intervalMs;
  const outcome: MaintenanceOutcome = { rotated: 0, erased: 0, failed: 0 };
  for (const appId of options.records.appsWithKeys()) {
    for (const name of options.records.names(appId, "key")) {
      const key = options.records.readKey(appId, name);
      if (!key) continue;
      try {
        if (isDueForRotation(key, now - graceMs) && (await options.keys.rotateIfDue(appId, name))) outcome.rotated++;
        const erasable = key.versions.some(
          (v) =>
            isDueForDestruction(v, now - graceMs) ||
            (v.state === "DESTROYED" && options.records.hasMaterial(appId, name, v.version)),
        );
        if (erasable) outcome.erased += await options.keys.eraseDestroyed(appId, name);
      } catch (e) {
        outcome.failed++;
        options.log.warn({ app: appId.toString(), key: name, err: (e as Error).message }, "key maintenance failed");
      }
    }
  }
  if (outcome.rotated + outcome.erased > 0) options.log.info(outcome, "key maintenance");
  return outcome;
}
