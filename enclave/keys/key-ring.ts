// One app's named keys and their versions (PROTOCOL.md §12), in memory: the lifecycle rules —
// states, the primary, rotation (manual and scheduled), destroy after a delay, restore — as one
// state machine with an injectable clock, so every rule is testable without a node. Material is
// held wrapped (wrap.ts); operations unwrap it for the moment they need it. Replication of these
// records between nodes is a later layer (README "Keys").
import { KEY_NAME_PATTERN, defaultRotationPeriodDays, type KeyPurpose } from "./purpose.js";

export type VersionState = "ENABLED" | "DISABLED" | "DESTROY_SCHEDULED" | "DESTROYED";

export interface KeyVersion {
  version: number;
  state: VersionState;
  createdAtMs: number;
  destroyAtMs?: number;
  destroyedAtMs?: number;
  /** Wrapped material; erased (undefined) once DESTROYED. */
  wrapped?: Uint8Array;
}

export interface NamedKey {
  name: string;
  purpose: KeyPurpose;
  primaryVersion: number;
  rotationPeriodDays: number;
  /** 0 when rotation is manual only. */
  nextRotationAtMs: number;
  createdAtMs: number;
  description: string;
  labels: Record<string, string>;
  versions: Map<number, KeyVersion>;
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

const DAY_MS = 24 * 3600 * 1000;

export interface KeyRingOptions {
  now?: () => number;
  /** How long a destroyed version can still be restored (KEY_DESTROY_DELAY_HOURS). */
  destroyDelayMs: number;
}

export class KeyRing {
  private readonly keys = new Map<string, NamedKey>();
  private readonly now: () => number;

  constructor(private readonly options: KeyRingOptions) {
    this.now = options.now ?? Date.now;
  }

  create(
    spec: {
      name: string;
      purpose: KeyPurpose;
      rotationPeriodDays?: number;
      description?: string;
      labels?: Record<string, string>;
    },
    firstVersionWrapped: Uint8Array,
  ): NamedKey {
    if (!KEY_NAME_PATTERN.test(spec.name)) throw new RangeError("key name must match [A-Za-z0-9_.-]{1,128}");
    if (this.keys.has(spec.name)) throw new KeyStateError("conflict", `key ${spec.name} already exists`);
    const now = this.now();
    const rotationPeriodDays = spec.rotationPeriodDays ?? defaultRotationPeriodDays(spec.purpose);
    const key: NamedKey = {
      name: spec.name,
      purpose: spec.purpose,
      primaryVersion: 1,
      rotationPeriodDays,
      nextRotationAtMs: rotationPeriodDays > 0 ? now + rotationPeriodDays * DAY_MS : 0,
      createdAtMs: now,
      description: spec.description ?? "",
      labels: { ...spec.labels },
      versions: new Map([[1, { version: 1, state: "ENABLED", createdAtMs: now, wrapped: firstVersionWrapped }]]),
    };
    this.keys.set(spec.name, key);
    return key;
  }

  has(name: string): boolean {
    return this.keys.has(name);
  }

  get(name: string): NamedKey {
    const key = this.keys.get(name);
    if (!key) throw new KeyStateError("not_found", `no key ${name}`);
    this.settle(key);
    return key;
  }

  /** Keys by name, `pageSize` at a time after `afterName` (the page token is the last name returned). */
  list(pageSize: number, afterName?: string): { keys: NamedKey[]; nextAfter?: string } {
    const names = [...this.keys.keys()].sort().filter((n) => afterName === undefined || n > afterName);
    const page = names.slice(0, pageSize).map((n) => this.get(n));
    return names.length > pageSize ? { keys: page, nextAfter: page.at(-1)!.name } : { keys: page };
  }

  update(
    name: string,
    changes: { rotationPeriodDays?: number; description?: string; labels?: Record<string, string> },
  ) {
    const key = this.get(name);
    if (changes.description !== undefined) key.description = changes.description;
    if (changes.labels !== undefined) key.labels = { ...changes.labels };
    if (changes.rotationPeriodDays !== undefined) {
      key.rotationPeriodDays = changes.rotationPeriodDays;
      key.nextRotationAtMs = changes.rotationPeriodDays > 0 ? this.now() + changes.rotationPeriodDays * DAY_MS : 0;
    }
    return key;
  }

  /** A new ENABLED version becomes primary; the schedule restarts from now. */
  rotate(name: string, wrapped: Uint8Array): KeyVersion {
    const key = this.get(name);
    const version = Math.max(...key.versions.keys()) + 1;
    const now = this.now();
    const created: KeyVersion = { version, state: "ENABLED", createdAtMs: now, wrapped };
    key.versions.set(version, created);
    key.primaryVersion = version;
    if (key.rotationPeriodDays > 0) key.nextRotationAtMs = now + key.rotationPeriodDays * DAY_MS;
    return created;
  }

  /** Keys whose scheduled rotation is due (the caller makes the material and calls rotate). */
  dueForRotation(): string[] {
    const now = this.now();
    return [...this.keys.values()]
      .filter((k) => k.nextRotationAtMs > 0 && k.nextRotationAtMs <= now)
      .map((k) => k.name);
  }

  setPrimary(name: string, version: number): NamedKey {
    const key = this.get(name);
    const target = this.version(key, version);
    if (target.state !== "ENABLED") throw new KeyStateError("conflict", `version ${version} is ${target.state}`);
    key.primaryVersion = version;
    return key;
  }

  enable(name: string, version: number): KeyVersion {
    const v = this.version(this.get(name), version);
    if (v.state === "ENABLED") return v;
    if (v.state !== "DISABLED") throw new KeyStateError("conflict", `version ${version} is ${v.state}`);
    v.state = "ENABLED";
    return v;
  }

  disable(name: string, version: number): KeyVersion {
    const key = this.get(name);
    const v = this.version(key, version);
    if (version === key.primaryVersion) throw new KeyStateError("conflict", "the primary version cannot be disabled");
    if (v.state === "DISABLED") return v;
    if (v.state !== "ENABLED") throw new KeyStateError("conflict", `version ${version} is ${v.state}`);
    v.state = "DISABLED";
    return v;
  }

  destroy(name: string, version: number): KeyVersion {
    const key = this.get(name);
    const v = this.version(key, version);
    if (version === key.primaryVersion) throw new KeyStateError("conflict", "the primary version cannot be destroyed");
    if (v.state === "DESTROY_SCHEDULED") return v;
    if (v.state === "DESTROYED") throw new KeyStateError("conflict", `version ${version} is DESTROYED`);
    v.state = "DESTROY_SCHEDULED";
    v.destroyAtMs = this.now() + this.options.destroyDelayMs;
    return v;
  }

  restore(name: string, version: number): KeyVersion {
    const v = this.version(this.get(name), version);
    if (v.state !== "DESTROY_SCHEDULED") throw new KeyStateError("conflict", `version ${version} is ${v.state}`);
    v.state = "DISABLED";
    delete v.destroyAtMs;
    return v;
  }

  /** The version an operation may use: the primary for encrypt/sign/mac, any ENABLED one otherwise. */
  usable(name: string, version?: number): { key: NamedKey; version: KeyVersion } {
    const key = this.get(name);
    const v = this.version(key, version ?? key.primaryVersion);
    if (v.state !== "ENABLED") throw new KeyStateError("conflict", `version ${v.version} is ${v.state}`);
    return { key, version: v };
  }

  private version(key: NamedKey, version: number): KeyVersion {
    const v = key.versions.get(version);
    if (!v) throw new KeyStateError("not_found", `key ${key.name} has no version ${version}`);
    return v;
  }

  /** Destroys versions whose delay has passed: their material is erased for good. */
  private settle(key: NamedKey): void {
    const now = this.now();
    for (const v of key.versions.values()) {
      if (v.state === "DESTROY_SCHEDULED" && (v.destroyAtMs ?? Number.POSITIVE_INFINITY) <= now) {
        v.state = "DESTROYED";
        v.destroyedAtMs = now;
        v.wrapped?.fill(0);
        delete v.wrapped;
      }
    }
  }
}
