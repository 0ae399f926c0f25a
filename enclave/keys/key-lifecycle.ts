// The lifecycle rules of one named key (PROTOCOL.md §12) as pure functions over its record: states,
// the primary, rotation (manual and scheduled), destroy after a delay, restore. Each change returns
// a new record and never touches material; the caller stores the result (key-records.ts) and
// commits it across the cluster (README "Keys: replication"). A clock is passed in, so every rule
// is testable without a node.
import {
  KeyInputError,
  type KeyChanges,
  type KeySpec,
  type KeyView,
  type VersionAction,
  type VersionView,
} from "./api.js";
import { MAX_ROTATION_PERIOD_DAYS } from "../protocol/key-views.js";
import { defaultRotationPeriodDays, KEY_NAME_PATTERN } from "./purpose.js";

/** A key with every version's metadata, as replicated (material lives in separate records). */
export interface KeyRecord extends KeyView {
  /** Ascending by version number. */
  versions: VersionView[];
}

/** A request that conflicts with a key's state (→ 409), or names nothing (→ 404). */
export class KeyStateError extends Error {
  override name = "KeyStateError";
  constructor(
    readonly kind: "conflict" | "not_found",
    message: string,
  ) {
    super(message);
  }
}

export const DAY_MS = 24 * 3600 * 1000;

export function checkKeyName(name: string): void {
  if (!KEY_NAME_PATTERN.test(name)) throw new KeyInputError("name must match [A-Za-z0-9_.-]{1,128} and not be . or ..");
}

/** Fractions are allowed (0.001 days ≈ 86 s), so scheduled rotation can be seen in a test. */
function checkRotationPeriod(days: number): number {
  if (typeof days !== "number" || !Number.isFinite(days) || days < 0 || days > MAX_ROTATION_PERIOD_DAYS) {
    throw new KeyInputError(
      `rotation_period_days must be a number in 0..${MAX_ROTATION_PERIOD_DAYS} (0 = manual only)`,
    );
  }
  return days;
}

const nextRotation = (periodDays: number, now: number) => (periodDays > 0 ? now + Math.round(periodDays * DAY_MS) : 0);

/** A new key whose version 1 is ENABLED and primary. */
export function newKey(spec: KeySpec, now: number): KeyRecord {
  checkKeyName(spec.name);
  const rotationPeriodDays = checkRotationPeriod(spec.rotationPeriodDays ?? defaultRotationPeriodDays(spec.purpose));
  return {
    name: spec.name,
    purpose: spec.purpose,
    primaryVersion: 1,
    rotationPeriodDays,
    nextRotationAtMs: nextRotation(rotationPeriodDays, now),
    createdAtMs: now,
    description: spec.description ?? "",
    labels: { ...spec.labels },
    versions: [{ version: 1, state: "ENABLED", createdAtMs: now }],
  };
}

/** The next version number: above every version the key ever had. */
export function nextVersionNumber(key: KeyRecord): number {
  return Math.max(0, ...key.versions.map((v) => v.version)) + 1;
}

/** A new ENABLED version becomes primary; the schedule restarts from now. */
export function rotateKey(key: KeyRecord, now: number): { key: KeyRecord; version: VersionView } {
  const version: VersionView = { version: nextVersionNumber(key), state: "ENABLED", createdAtMs: now };
  return {
    key: {
      ...key,
      primaryVersion: version.version,
      nextRotationAtMs: nextRotation(key.rotationPeriodDays, now),
      versions: [...key.versions, version],
    },
    version,
  };
}

export function updateKey(key: KeyRecord, changes: KeyChanges, now: number): KeyRecord {
  const next = { ...key };
  if (changes.description !== undefined) next.description = changes.description;
  if (changes.labels !== undefined) next.labels = { ...changes.labels };
  if (changes.rotationPeriodDays !== undefined) {
    next.rotationPeriodDays = checkRotationPeriod(changes.rotationPeriodDays);
    next.nextRotationAtMs = nextRotation(next.rotationPeriodDays, now);
  }
  if (changes.primaryVersion !== undefined) {
    const target = versionOf(key, changes.primaryVersion);
    if (target.state !== "ENABLED") {
      throw new KeyStateError("conflict", `version ${target.version} is ${target.state}; only ENABLED can be primary`);
    }
    next.primaryVersion = target.version;
  }
  return next;
}

/** enable / disable / destroy (schedule) / restore one version. Unchanged when already there. */
export function changeVersion(
  key: KeyRecord,
  number: number,
  action: VersionAction,
  now: number,
  destroyDelayMs: number,
): KeyRecord {
  const current = versionOf(key, number);
  const isPrimary = number === key.primaryVersion;
  let changed: VersionView;
  switch (action) {
    case "enable":
      if (current.state === "ENABLED") return key;
      if (current.state !== "DISABLED") throw stateConflict(current);
      changed = { version: number, state: "ENABLED", createdAtMs: current.createdAtMs };
      break;
    case "disable":
      if (isPrimary) throw new KeyStateError("conflict", "the primary version cannot be disabled");
      if (current.state === "DISABLED") return key;
      if (current.state !== "ENABLED") throw stateConflict(current);
      changed = { version: number, state: "DISABLED", createdAtMs: current.createdAtMs };
      break;
    case "destroy":
      if (isPrimary) throw new KeyStateError("conflict", "the primary version cannot be destroyed");
      if (current.state === "DESTROY_SCHEDULED") return key;
      if (current.state === "DESTROYED") throw stateConflict(current);
      changed = {
        version: number,
        state: "DESTROY_SCHEDULED",
        createdAtMs: current.createdAtMs,
        destroyAtMs: now + destroyDelayMs,
      };
      break;
    case "restore":
      if (current.state !== "DESTROY_SCHEDULED") throw stateConflict(current);
      changed = { version: number, state: "DISABLED", createdAtMs: current.createdAtMs };
      break;
  }
  return { ...key, versions: key.versions.map((v) => (v.version === number ? changed : v)) };
}

/**
 * The record as of `now`: versions whose destroy time has passed are DESTROYED. Every node computes
 * this from the replicated `destroy_at_ms`, so a version stops working everywhere at the same
 * instant, before any node has erased its material (key-maintenance.ts does that).
 */
export function settle(key: KeyRecord, now: number): KeyRecord {
  if (!key.versions.some((v) => isDueForDestruction(v, now))) return key;
  return {
    ...key,
    versions: key.versions.map((v) =>
      isDueForDestruction(v, now)
        ? { version: v.version, state: "DESTROYED", createdAtMs: v.createdAtMs, destroyedAtMs: v.destroyAtMs! }
        : v,
    ),
  };
}

export function isDueForDestruction(v: VersionView, now: number): boolean {
  return v.state === "DESTROY_SCHEDULED" && v.destroyAtMs !== undefined && v.destroyAtMs <= now;
}

export function isDueForRotation(key: KeyRecord, now: number): boolean {
  return key.nextRotationAtMs > 0 && key.nextRotationAtMs <= now;
}

export function versionOf(key: KeyRecord, number: number): VersionView {
  const v = key.versions.find((x) => x.version === number);
  if (!v) throw new KeyStateError("not_found", `key ${key.name} has no version ${number}`);
  return v;
}

/** The version an operation may use: the primary unless one is named; it must be ENABLED. */
export function usableVersion(key: KeyRecord, number?: number): VersionView {
  const v = versionOf(key, number ?? key.primaryVersion);
  if (v.state !== "ENABLED") throw stateConflict(v);
  return v;
}

function stateConflict(v: VersionView): KeyStateError {
  return new KeyStateError("conflict", `version ${v.version} is ${v.state}`);
}

/** The key as PROTOCOL §12 shows it (without its versions). */
export function keyView(key: KeyRecord): KeyView {
  const { versions: _versions, ...view } = key;
  return view;
}
