// The named-key resources of PROTOCOL.md §12 as both ends see them: the purposes, version states and
// actions, the Key and Version views, and their wire JSON (snake_case, optional fields absent when
// unset). The node answers with these converters and the CLI prints with them, so what a user sees
// from `nova-kms keys get` is byte for byte what the node sent.

export const KEY_PURPOSES = [
  "encrypt",
  "sign-secp256k1",
  "sign-p256",
  "sign-ed25519",
  "sign-rsa",
  "decrypt-rsa",
  "mac",
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export const VERSION_STATES = ["ENABLED", "DISABLED", "DESTROY_SCHEDULED", "DESTROYED"] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export type VersionAction = "enable" | "disable" | "destroy" | "restore";

/** The longest rotation period a key may have (days; fractions allowed). */
export const MAX_ROTATION_PERIOD_DAYS = 3650;

/** A key (material never appears here). */
export interface KeyView {
  name: string;
  purpose: KeyPurpose;
  primaryVersion: number;
  rotationPeriodDays: number;
  /** 0 when rotation is manual only. */
  nextRotationAtMs: number;
  createdAtMs: number;
  description: string;
  labels: Record<string, string>;
}

export interface VersionView {
  version: number;
  state: VersionState;
  createdAtMs: number;
  destroyAtMs?: number;
  destroyedAtMs?: number;
}

/** What a new key is made of (`POST /kms/keys`). */
export interface KeySpec {
  name: string;
  purpose: KeyPurpose;
  /** 0 = manual only; default 30 for `encrypt`, 0 otherwise. */
  rotationPeriodDays?: number;
  description?: string;
  labels?: Record<string, string>;
}

/** What `PATCH /kms/keys/<name>` may change. */
export interface KeyChanges {
  rotationPeriodDays?: number;
  description?: string;
  labels?: Record<string, string>;
  primaryVersion?: number;
}

export function keyJson(key: KeyView) {
  return {
    name: key.name,
    purpose: key.purpose,
    primary_version: key.primaryVersion,
    rotation_period_days: key.rotationPeriodDays,
    next_rotation_at_ms: key.nextRotationAtMs,
    created_at_ms: key.createdAtMs,
    description: key.description,
    labels: key.labels,
  };
}

export function versionJson(v: VersionView) {
  return {
    version: v.version,
    state: v.state,
    created_at_ms: v.createdAtMs,
    ...(v.destroyAtMs !== undefined ? { destroy_at_ms: v.destroyAtMs } : {}),
    ...(v.destroyedAtMs !== undefined ? { destroyed_at_ms: v.destroyedAtMs } : {}),
  };
}
