// What the HTTP routes (and later the cloud-KMS front ends, PROTOCOL §13) may call for named keys and
// secrets (PROTOCOL §12). Every call names the caller's app: one app never sees another's keys. All
// calls are async because lifecycle changes are committed across the cluster before they answer
// (README "Keys: replication"). Errors (→ HTTP status in http/key-errors.ts):
//   KeyStateError not_found → 404, conflict → 409;  SecretNotFoundError → 404;
//   KeyInputError, KeyUsageError, CiphertextFormatError, DecryptFailedError, SignInputError → 400;
//   KmsError passes through (503 insufficient_replicas / service_unavailable while catching up).
import type { KeyChanges, KeySpec, KeyView, VersionAction, VersionView } from "../protocol/key-views.js";
import type { PublicKeyInfo } from "./material.js";
import type { SignInput } from "./signatures.js";

export type {
  KeyChanges,
  KeySpec,
  KeyView,
  VersionAction,
  VersionState,
  VersionView,
} from "../protocol/key-views.js";

export interface Page<T, Cursor> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextAfter?: Cursor;
}

export interface KeyApi {
  create(appId: bigint, spec: KeySpec): Promise<KeyView>;
  get(appId: bigint, name: string): Promise<KeyView>;
  list(appId: bigint, pageSize: number, afterName?: string): Promise<Page<KeyView, string>>;
  update(appId: bigint, name: string, changes: KeyChanges): Promise<KeyView>;
  /** A new ENABLED version becomes primary. */
  rotate(appId: bigint, name: string): Promise<KeyView>;
  versions(appId: bigint, name: string, pageSize: number, afterVersion?: number): Promise<Page<VersionView, number>>;
  version(appId: bigint, name: string, version: number): Promise<VersionView>;
  changeVersion(appId: bigint, name: string, version: number, action: VersionAction): Promise<VersionView>;

  encrypt(
    appId: bigint,
    name: string,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Promise<{ ciphertext: string; version: number }>;
  decrypt(
    appId: bigint,
    ciphertext: string,
    aad: Uint8Array,
  ): Promise<{ plaintext: Uint8Array; key: string; version: number }>;
  reencrypt(
    appId: bigint,
    ciphertext: string,
    aad: Uint8Array,
    targetKey?: string,
  ): Promise<{ ciphertext: string; key: string; version: number }>;
  dataKey(
    appId: bigint,
    name: string,
    bytes?: number,
    aad?: Uint8Array,
  ): Promise<{ ciphertext: string; plaintext: Uint8Array; version: number }>;
  sign(appId: bigint, name: string, input: SignInput): Promise<{ signature: string; version: number }>;
  verify(appId: bigint, name: string, input: SignInput, signature: string, version?: number): Promise<boolean>;
  publicKey(appId: bigint, name: string, version?: number): Promise<PublicKeyInfo & { version: number }>;
  mac(appId: bigint, name: string, message: Uint8Array): Promise<{ mac: string; version: number }>;
  verifyMac(appId: bigint, name: string, message: Uint8Array, mac: string, version?: number): Promise<boolean>;
  decryptAsymmetric(appId: bigint, name: string, version: number, ciphertext: Uint8Array): Promise<Uint8Array>;
  random(bytes: number): Promise<Uint8Array>;
}

export interface SecretSummary {
  name: string;
  latestVersion: number;
  updatedAtMs: number;
}

export interface SecretApi {
  /** Each put is a new version. */
  put(appId: bigint, name: string, value: Uint8Array): Promise<{ name: string; version: number }>;
  /** The latest version unless one is named. */
  get(appId: bigint, name: string, version?: number): Promise<{ name: string; version: number; value: Uint8Array }>;
  list(appId: bigint, pageSize: number, afterName?: string): Promise<Page<SecretSummary, string>>;
  /** Removes every version (SecretNotFoundError when there is none). */
  delete(appId: bigint, name: string): Promise<{ name: string; deleted: true }>;
}

/** A name, label, period or size that PROTOCOL §12 does not allow (→ 400). */
export class KeyInputError extends Error {
  override name = "KeyInputError";
}
