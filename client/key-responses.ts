// Parsers for the named-key replies of PROTOCOL.md §12 (field names and choices: README "Keys"). Every field is type-checked, and where a reply repeats or implies what
// the request asked it must agree: the key name, the version asked for, the state an action leads
// to, the key and version an `nkms1:` ciphertext names, the length of random bytes. A disagreement is
// a ResponseShapeError (→ KmsResponseVerificationError), never a result. Fields a newer node may add
// are ignored, as in responses.ts.
import { createPublicKey, type KeyObject } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "../enclave/crypto/bytes.js";
import { readCiphertextHeader, type CiphertextHeader } from "./ciphertext-header.js";
import {
  KEY_PURPOSES,
  MAX_ROTATION_PERIOD_DAYS,
  VERSION_STATES,
  type KeyPurpose,
  type KeyView,
  type VersionAction,
  type VersionState,
  type VersionView,
} from "../enclave/protocol/key-views.js";
import {
  asked,
  b64,
  bool,
  type Fields,
  hex,
  int,
  object,
  optional,
  pageOf,
  positiveInt,
  ResponseShapeError,
  str,
} from "./json-fields.js";

export { KEY_PURPOSES, VERSION_STATES, type KeyPurpose, type VersionAction, type VersionState };

const MAC_HEX_CHARS = 64;

/** A key as the node shows it (PROTOCOL.md §12). */
export type Key = KeyView;
export type KeyVersion = VersionView;

/** What a create or update asked to set; each given field must come back as sent. */
export interface KeyExpectation {
  name: string;
  purpose?: KeyPurpose;
  rotationPeriodDays?: number;
  description?: string;
  labels?: Record<string, string>;
  primaryVersion?: number;
}

export interface KeyPage {
  keys: Key[];
  /** Pass back as `pageToken` for the next page; absent on the last one. */
  nextPageToken?: string;
}

export interface VersionPage {
  versions: KeyVersion[];
  nextPageToken?: string;
}

export interface EncryptResult {
  /** `nkms1:…`, naming the key and version. */
  ciphertext: string;
  version: number;
}

export interface DecryptResult {
  plaintext: Uint8Array;
  key: string;
  version: number;
}

export interface ReencryptResult {
  ciphertext: string;
  key: string;
  version: number;
}

export interface DataKeyResult {
  /** The data key sealed under the named key (decrypt it later with `keys.decrypt`). */
  ciphertext: string;
  /** The data key itself; absent when asked `withPlaintext: false`. */
  plaintext?: Uint8Array;
  version: number;
}

export interface SignResult {
  /** Lower-case hex without 0x (secp256k1: 65-byte r‖s‖v with v 27/28; P-256: DER). */
  signature: string;
  version: number;
}

export interface PublicKeyResult {
  /** SubjectPublicKeyInfo PEM. */
  pem: string;
  version: number;
  /** Lower-case 0x Ethereum address (sign-secp256k1 keys only), checked against `pem`. */
  address?: string;
}

export interface MacResult {
  /** HMAC-SHA256 as 64 lower-case hex characters. */
  mac: string;
  version: number;
}

function oneOf<T extends string>(o: Fields, field: string, values: readonly T[]): T {
  const v = str(o, field);
  if (!(values as readonly string[]).includes(v)) throw new ResponseShapeError(`field ${field} is not a known value`);
  return v as T;
}

function labels(o: Fields, field: string): Record<string, string> {
  const v = object(o[field], `field ${field}`);
  if (!Object.values(v).every((x) => typeof x === "string"))
    throw new ResponseShapeError(`field ${field} is not a map of strings`);
  return { ...(v as Record<string, string>) };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

export function key(payload: unknown, expect?: KeyExpectation): Key {
  const o = object(payload, "key");
  const days = int(o, "rotation_period_days");
  if (days > MAX_ROTATION_PERIOD_DAYS) throw new ResponseShapeError("field rotation_period_days is out of range");
  const result: Key = {
    name: str(o, "name"),
    purpose: oneOf(o, "purpose", KEY_PURPOSES),
    primaryVersion: positiveInt(o, "primary_version"),
    rotationPeriodDays: days,
    nextRotationAtMs: int(o, "next_rotation_at_ms"),
    createdAtMs: int(o, "created_at_ms"),
    description: str(o, "description"),
    labels: labels(o, "labels"),
  };
  if (!expect) return result;
  asked("name", result.name, expect.name);
  if (expect.purpose !== undefined) asked("purpose", result.purpose, expect.purpose);
  if (expect.rotationPeriodDays !== undefined)
    asked("rotation_period_days", result.rotationPeriodDays, expect.rotationPeriodDays);
  if (expect.description !== undefined) asked("description", result.description, expect.description);
  if (expect.primaryVersion !== undefined) asked("primary_version", result.primaryVersion, expect.primaryVersion);
  if (expect.labels !== undefined && !sameLabels(result.labels, expect.labels))
    throw new ResponseShapeError("field labels is not what the request asked for");
  return result;
}

/** A rotation made a new version primary, so the primary can no longer be the first one. */
export function rotatedKey(payload: unknown, name: string): Key {
  const result = key(payload, { name });
  if (result.primaryVersion < 2) throw new ResponseShapeError("field primary_version did not move past 1");
  return result;
}

export function keyVersion(payload: unknown, expectVersion?: number): KeyVersion {
  const o = object(payload, "version");
  const destroyAtMs = optional(o, "destroy_at_ms", int);
  const destroyedAtMs = optional(o, "destroyed_at_ms", int);
  const result: KeyVersion = {
    version: positiveInt(o, "version"),
    state: oneOf(o, "state", VERSION_STATES),
    createdAtMs: int(o, "created_at_ms"),
    ...(destroyAtMs === undefined ? {} : { destroyAtMs }),
    ...(destroyedAtMs === undefined ? {} : { destroyedAtMs }),
  };
  if (expectVersion !== undefined) asked("version", result.version, expectVersion);
  return result;
}

// The state each action leads to (§12: destroy schedules; with no delay it may already be done).
const STATES_AFTER: Record<VersionAction, readonly VersionState[]> = {
  enable: ["ENABLED"],
  disable: ["DISABLED"],
  destroy: ["DESTROY_SCHEDULED", "DESTROYED"],
  restore: ["DISABLED"],
};

export function changedVersion(payload: unknown, version: number, action: VersionAction): KeyVersion {
  const result = keyVersion(payload, version);
  if (!STATES_AFTER[action].includes(result.state))
    throw new ResponseShapeError(`field state is ${result.state}, not the state ${action} leads to`);
  return result;
}

export function keyPage(payload: unknown, pageSize: number): KeyPage {
  const { items, ...rest } = pageOf(object(payload), "keys", pageSize, (x) => key(x));
  return { keys: items, ...rest };
}

export function versionPage(payload: unknown, pageSize: number): VersionPage {
  const { items, ...rest } = pageOf(object(payload), "versions", pageSize, (x) => keyVersion(x));
  return { versions: items, ...rest };
}

/** A ciphertext field that must name `keyName` (when known) and the reply's own version. */
function ciphertextOf(o: Fields, version: number, keyName: string | undefined): string {
  const ciphertext = str(o, "ciphertext");
  const header = readCiphertextHeader(ciphertext);
  if (!header) throw new ResponseShapeError("field ciphertext is not an nkms1 ciphertext");
  if (keyName !== undefined) asked("ciphertext key", header.keyName, keyName);
  asked("ciphertext version", header.version, version);
  return ciphertext;
}

export function encryptResult(payload: unknown, keyName: string): EncryptResult {
  const o = object(payload);
  const version = positiveInt(o, "version");
  return { ciphertext: ciphertextOf(o, version, keyName), version };
}

/** `sent` is the header of the ciphertext we sent, when the SDK could read it. */
export function decryptResult(payload: unknown, sent: CiphertextHeader | undefined): DecryptResult {
  const o = object(payload);
  const result = { plaintext: b64(o, "plaintext"), key: str(o, "key"), version: positiveInt(o, "version") };
  if (sent) {
    asked("key", result.key, sent.keyName);
    asked("version", result.version, sent.version);
  }
  return result;
}

/** `targetKey`: the key asked for, or (default) the key the sent ciphertext names, when known. */
export function reencryptResult(payload: unknown, targetKey: string | undefined): ReencryptResult {
  const o = object(payload);
  const keyName = str(o, "key");
  if (targetKey !== undefined) asked("key", keyName, targetKey);
  const version = positiveInt(o, "version");
  return { ciphertext: ciphertextOf(o, version, keyName), key: keyName, version };
}

export function dataKeyResult(
  payload: unknown,
  request: { keyName: string; bytes: number; withPlaintext: boolean },
): DataKeyResult {
  const o = object(payload);
  const version = positiveInt(o, "version");
  const ciphertext = ciphertextOf(o, version, request.keyName);
  const plaintext = optional(o, "plaintext", b64);
  if (!request.withPlaintext) {
    if (plaintext !== undefined) throw new ResponseShapeError("field plaintext is present though not asked for");
    return { ciphertext, version };
  }
  if (plaintext === undefined) throw new ResponseShapeError("field plaintext is missing");
  if (plaintext.length !== request.bytes)
    throw new ResponseShapeError(`field plaintext is ${plaintext.length} bytes, not the ${request.bytes} asked`);
  return { ciphertext, plaintext, version };
}

export function signResult(payload: unknown): SignResult {
  const o = object(payload);
  return { signature: hex(o, "signature"), version: positiveInt(o, "version") };
}

export function validity(payload: unknown): boolean {
  return bool(object(payload), "valid");
}

export function macResult(payload: unknown): MacResult {
  const o = object(payload);
  const mac = hex(o, "mac");
  if (mac.length !== MAC_HEX_CHARS) throw new ResponseShapeError("field mac is not 32 bytes");
  return { mac, version: positiveInt(o, "version") };
}

function publicKeyObject(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new ResponseShapeError("field pem is not a public key");
  }
}

/** The Ethereum address of a secp256k1 public key, or undefined for any other kind of key. */
function ethereumAddress(publicKey: KeyObject): string | undefined {
  if (publicKey.asymmetricKeyType !== "ec" || publicKey.asymmetricKeyDetails?.namedCurve !== "secp256k1")
    return undefined;
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from(jwk.x ?? "", "base64url"), Buffer.from(jwk.y ?? "", "base64url")]);
  return `0x${bytesToHex(keccak_256(point).subarray(12))}`;
}

/** The address, present exactly for a secp256k1 key, must be that key's: a mismatch would misdirect funds. */
export function publicKeyResult(payload: unknown, expectVersion: number | undefined): PublicKeyResult {
  const o = object(payload);
  const pem = str(o, "pem");
  const version = positiveInt(o, "version");
  if (expectVersion !== undefined) asked("version", version, expectVersion);
  const derived = ethereumAddress(publicKeyObject(pem));
  const address = optional(o, "address", str);
  if (derived === undefined) {
    if (address !== undefined) throw new ResponseShapeError("field address is present for a key with no address");
    return { pem, version };
  }
  if (address === undefined) throw new ResponseShapeError("field address is missing for a secp256k1 key");
  return { pem, version, address: asked("address", address, derived) };
}

export function asymmetricPlaintext(payload: unknown): Uint8Array {
  return b64(object(payload), "plaintext");
}

export function randomBytes(payload: unknown, bytes: number): Uint8Array {
  const random = b64(object(payload), "random");
  if (random.length !== bytes) throw new ResponseShapeError(`field random is ${random.length} bytes, not ${bytes}`);
  return random;
}
