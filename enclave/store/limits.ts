// Configurable limits and their defaults, plus key/value validation shared by local writes and merges.
import { InvalidInputError, InvalidKeyError, ValueTooLargeError } from "./errors.js";

// These are the node's defaults too: config.ts takes them from here, so a store built without
// options enforces exactly what an unconfigured node does.

export const OVERFLOW_POLICIES = ["evict-lru", "reject"] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];
export const DEFAULT_OVERFLOW: OverflowPolicy = "evict-lru";

export interface StoreLimits {
  /** UTF-8 bytes of a key. */
  maxKeyBytes: number;
  /** Plaintext bytes of a value. */
  maxValueBytes: number;
  /** Accounted bytes (key + sealed value + metadata) of an app's live records. */
  maxBytesPerApp: number;
  /** Live keys per app. */
  maxKeysPerApp: number;
  maxTtlMs: number;
  /** Bound on clock entries in a merged record (the cluster size is far below this). */
  maxClockEntries: number;
}

/** The most a deployment may configure: the protocol's longest key and largest value. */
export const LIMIT_CEILINGS = Object.freeze({
  maxKeyBytes: 512,
  maxValueBytes: 1024 * 1024,
});

export const DEFAULT_LIMITS: StoreLimits = Object.freeze({
  maxKeyBytes: LIMIT_CEILINGS.maxKeyBytes,
  maxValueBytes: LIMIT_CEILINGS.maxValueBytes,
  maxBytesPerApp: 64 * 1024 * 1024,
  maxKeysPerApp: 100_000,
  maxTtlMs: 10 * 365 * 24 * 3600 * 1000,
  maxClockEntries: 256,
});

/** Merged records stamped further than this ahead of our clock are refused. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

/**
 * How far merges may take an app beyond its quotas (live bytes and live keys), as a multiple. Merges
 * do not evict (README "Quotas and LRU"), so concurrent writes on several nodes can legitimately
 * overshoot for a moment; a peer that pushes far more than that is refused (`over_quota`), so a
 * member cannot grow an app without bound. The next local write evicts back under the quota.
 */
export const MERGE_QUOTA_HEADROOM = 2;

export function resolveLimits(partial: Partial<StoreLimits> | undefined): StoreLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`store limit ${name} must be a positive integer`);
  }
  return limits;
}

/**
 * Returns the key's UTF-8 length. Lone surrogates are refused because TextEncoder would map them to
 * U+FFFD, letting two different strings share one key (and one AAD).
 */
export function checkKey(key: unknown, maxKeyBytes: number): number {
  if (typeof key !== "string" || key.length === 0) throw new InvalidKeyError("key must be a non-empty string");
  if (/[\uD800-\uDFFF]/.test(key) && !isWellFormed(key)) throw new InvalidKeyError("key is not well-formed Unicode");
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > maxKeyBytes) throw new InvalidKeyError(`key is ${bytes} bytes; the limit is ${maxKeyBytes} bytes`);
  return bytes;
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

export function checkValue(value: unknown, maxValueBytes: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidInputError("value must be bytes");
  if (value.length > maxValueBytes) throw new ValueTooLargeError(value.length, maxValueBytes);
  return value;
}

export function checkTtl(ttlMs: unknown, maxTtlMs: number): number {
  if (ttlMs === undefined) return 0;
  if (typeof ttlMs !== "number" || !Number.isSafeInteger(ttlMs) || ttlMs < 0 || ttlMs > maxTtlMs) {
    throw new InvalidInputError(`ttl_ms must be an integer in 0..${maxTtlMs} (0 = no expiry)`);
  }
  return ttlMs;
}

/**
 * Namespace ids: an app's id (uint256, from the registry), or a reserved id at or above 2^256 that
 * no app can have, where the node keeps records of its own about an app (its named keys and secrets,
 * keys/key-records.ts). They replicate like app data but are never evicted: losing one would lose a
 * key, so a full reserved namespace refuses the write instead.
 */
export const RESERVED_NAMESPACE_BASE = 1n << 256n;
export const NAMESPACE_ID_MAX = (1n << 257n) - 1n;

export function isReservedNamespace(id: bigint): boolean {
  return id >= RESERVED_NAMESPACE_BASE;
}

export function checkAppId(appId: unknown): bigint {
  if (typeof appId !== "bigint" || appId < 0n || appId > NAMESPACE_ID_MAX)
    throw new InvalidInputError("namespace id must be a uint256 app id or a reserved id below 2^257");
  return appId;
}
