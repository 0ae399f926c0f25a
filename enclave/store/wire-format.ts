/**
 * Wire format of replicated KV records (used by `/sync` deltas, snapshot pages and anti-entropy).
 *
 * A record is one version of one key, as a plain JSON-safe object:
 *
 * ```json
 * {
 *   "v": 1,
 *   "app_id": "42",                       // decimal string (uint256 does not fit a JSON number)
 *   "key": "config/db",                   // the app's key, UTF-8, 1..512 bytes
 *   "clock": { "0xab…": 3, "0xcd…": 7 },  // node wallet (lower-case 0x-hex) → positive counter, at most
 *                                         // the receiver's clock ceiling (vector-clock.ts), checked on merge
 *   "updated_at_ms": 1767225600000,       // origin node's wall clock at the write
 *   "ttl_ms": 0,                          // 0 = no expiry; expires at updated_at_ms + ttl_ms
 *   "tombstone": false,                   // true for deletes (and expired records)
 *   "origin": "0xab…",                    // wallet of the writing node; must appear in clock
 *   "ciphertext": "base64…"               // base64(nonce(12) ‖ AES-256-GCM ct ‖ tag(16)); "" for tombstones
 * }
 * ```
 *
 * The value is encrypted under the app's KV data key (HKDF internal domain, `kv-data:<appId>`) with
 * AAD = "nova-kms:kv:v1" ‖ u32be(len) ‖ app id decimal ‖ u32be(len) ‖ key UTF-8. Receivers decrypt
 * every non-tombstone record before accepting it, so a ciphertext moved to another key or app is
 * rejected. A key with concurrent versions is sent as several records with the same app_id/key.
 */
import { base64ToBytes } from "../crypto/bytes.js";
import { type RecordVersion, EMPTY_SEALED } from "./record.js";
import { SEALED_OVERHEAD, sealedFromBytes } from "./sealing.js";
import { NAMESPACE_ID_MAX } from "./limits.js";
import { type VectorClock, isNodeId, makeClock } from "./vector-clock.js";

export const WIRE_VERSION = 1;

export interface WireRecord {
  v: 1;
  app_id: string;
  key: string;
  clock: Record<string, number>;
  updated_at_ms: number;
  ttl_ms: number;
  tombstone: boolean;
  origin: string;
  ciphertext: string;
}

/** Limits a decoded record must respect; the store passes its own configured values. */
export interface WireLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxTtlMs: number;
  maxClockEntries: number;
}

export function encodeWireRecord(appId: bigint, key: string, v: RecordVersion): WireRecord {
  return {
    v: WIRE_VERSION,
    app_id: appId.toString(10),
    key,
    clock: { ...v.clock },
    updated_at_ms: v.updatedAtMs,
    ttl_ms: v.ttlMs,
    tombstone: v.tombstone,
    origin: v.origin,
    ciphertext: v.sealed.length === 0 ? "" : Buffer.from(v.sealed, "latin1").toString("base64"),
  };
}

/** Upper estimate of a record's JSON size, for batching by bytes without serializing twice. */
export function wireRecordSize(keyBytes: number, v: RecordVersion): number {
  const clockEntries = Object.keys(v.clock).length;
  // Keys are counted six-fold: JSON may escape a control byte as \u00XX.
  return 220 + 6 * keyBytes + clockEntries * 64 + Math.ceil(v.sealed.length / 3) * 4;
}

export type DecodeFailure =
  | "malformed"
  | "unsupported_version"
  | "invalid_app_id"
  | "invalid_key"
  | "invalid_clock"
  | "invalid_timestamp"
  | "invalid_ttl"
  | "value_too_large"
  | "invalid_ciphertext";

export interface DecodedRecord {
  appId: bigint;
  key: string;
  keyBytes: number;
  version: RecordVersion;
}

export type DecodeResult = { ok: true; record: DecodedRecord } | { ok: false; reason: DecodeFailure; detail: string };

const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;

function fail(reason: DecodeFailure, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

function isSafeNonNegInt(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Structural validation of an untrusted record: shapes, sizes and ranges. Checks that need the store
 * (clock skew, decryption under the receiver's key) happen in the store's merge.
 */
export function decodeWireRecord(
  input: unknown,
  limits: WireLimits,
  validateKey: (key: string) => number,
): DecodeResult {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return fail("malformed", "record is not an object");
  const r = input as Record<string, unknown>;
  if (r.v !== WIRE_VERSION) return fail("unsupported_version", "unsupported record version");
  if (typeof r.app_id !== "string" || !DECIMAL_RE.test(r.app_id))
    return fail("invalid_app_id", "app_id must be a decimal string");
  const appId = BigInt(r.app_id);
  if (appId > NAMESPACE_ID_MAX) return fail("invalid_app_id", "app_id out of range");
  if (typeof r.key !== "string") return fail("invalid_key", "key must be a string");
  let keyBytes: number;
  try {
    keyBytes = validateKey(r.key);
  } catch (e) {
    return fail("invalid_key", (e as Error).message);
  }
  if (typeof r.origin !== "string" || !isNodeId(r.origin))
    return fail("invalid_clock", "origin must be a lower-case 0x wallet");
  if (typeof r.clock !== "object" || r.clock === null || Array.isArray(r.clock))
    return fail("invalid_clock", "clock must be an object");
  const entries = Object.entries(r.clock as Record<string, unknown>);
  if (entries.length === 0 || entries.length > limits.maxClockEntries)
    return fail("invalid_clock", "clock entry count out of range");
  const clockEntries: [string, number][] = [];
  for (const [node, n] of entries) {
    if (!isNodeId(node) || !isSafeNonNegInt(n) || n === 0)
      return fail("invalid_clock", "clock entries must be wallet → positive integer");
    clockEntries.push([node, n]);
  }
  const clock: VectorClock = makeClock(clockEntries);
  if (!(r.origin in clock)) return fail("invalid_clock", "origin must appear in the clock");
  if (!isSafeNonNegInt(r.updated_at_ms))
    return fail("invalid_timestamp", "updated_at_ms must be a non-negative integer");
  if (!isSafeNonNegInt(r.ttl_ms) || r.ttl_ms > limits.maxTtlMs) return fail("invalid_ttl", "ttl_ms out of range");
  if (typeof r.tombstone !== "boolean") return fail("malformed", "tombstone must be a boolean");
  if (typeof r.ciphertext !== "string") return fail("invalid_ciphertext", "ciphertext must be a string");
  let sealed = EMPTY_SEALED;
  if (r.tombstone) {
    if (r.ciphertext !== "") return fail("invalid_ciphertext", "a tombstone carries no ciphertext");
    if (r.ttl_ms !== 0) return fail("invalid_ttl", "a tombstone has no ttl");
  } else {
    // Cheap length bound before decoding, so an oversized string is refused without allocating.
    if (r.ciphertext.length > Math.ceil((limits.maxValueBytes + SEALED_OVERHEAD) / 3) * 4) {
      return fail("value_too_large", "value exceeds the size limit");
    }
    try {
      sealed = sealedFromBytes(base64ToBytes(r.ciphertext));
    } catch {
      return fail("invalid_ciphertext", "ciphertext is not valid base64");
    }
    if (sealed.length < SEALED_OVERHEAD) return fail("invalid_ciphertext", "ciphertext too short");
    if (sealed.length - SEALED_OVERHEAD > limits.maxValueBytes)
      return fail("value_too_large", "value exceeds the size limit");
  }
  return {
    ok: true,
    record: {
      appId,
      key: r.key,
      keyBytes,
      version: {
        clock,
        updatedAtMs: r.updated_at_ms,
        ttlMs: r.ttl_ms,
        tombstone: r.tombstone,
        origin: r.origin,
        sealed,
      },
    },
  };
}
