// `client.keys`: named keys and the cryptographic operations on them (PROTOCOL.md §12), one method
// per route, named as the node's KeyApi (enclave/keys/api.ts) names them. Every call goes through
// the client's one signed call path (nova-kms-client.ts `call`): the same PoP, envelope, failover
// and reply checks as derive and KV. Each body names its operation (`op`), so a node refuses it on
// any other route; each reply is held to what was asked (key-responses.ts).
import type { KeyChanges, KeySpec } from "../enclave/protocol/key-views.js";
import { OPERATIONS } from "../enclave/protocol/operations.js";
import { readCiphertextHeader } from "./ciphertext-header.js";
import {
  asymmetricPlaintext,
  changedVersion,
  dataKeyResult,
  decryptResult,
  encryptResult,
  key,
  keyPage,
  keyVersion,
  macResult,
  publicKeyResult,
  randomBytes,
  reencryptResult,
  rotatedKey,
  signResult,
  validity,
  versionPage,
  type DataKeyResult,
  type DecryptResult,
  type EncryptResult,
  type Key,
  type KeyPage,
  type KeyVersion,
  type MacResult,
  type PublicKeyResult,
  type ReencryptResult,
  type SignResult,
  type VersionAction,
  type VersionPage,
} from "./key-responses.js";
import {
  allPages,
  base64Of,
  type BinaryInput,
  digestHex,
  nameSegment,
  optionalBase64,
  type PageRequest,
  pageQuery,
  positiveInteger,
} from "./request-inputs.js";
import type { SignedRequest } from "./signed-request.js";

/** The client's signed call; `list` replies are read under the larger list bound. */
export type SignedCaller = <T>(
  request: SignedRequest,
  decode: (payload: unknown) => T,
  options?: { list?: boolean },
) => Promise<T>;

/** What a new key is made of (the node's KeySpec). */
export type CreateKeyRequest = KeySpec;
export type { KeyChanges };

/** What is signed: message bytes (UTF-8 for a string), or a 32-byte digest (bytes or hex). */
export type SignInput = { message: BinaryInput } | { digest: Uint8Array | string };

export interface DataKeyOptions {
  /** 16..64, default 32. */
  bytes?: number;
  aad?: BinaryInput;
  /** Default true; false returns only the sealed data key. */
  withPlaintext?: boolean;
}

export const DEFAULT_DATA_KEY_BYTES = 32;

const ACTION_OPS: Record<VersionAction, string> = {
  enable: OPERATIONS.keysEnable,
  disable: OPERATIONS.keysDisable,
  destroy: OPERATIONS.keysDestroy,
  restore: OPERATIONS.keysRestore,
};

function signFields(input: SignInput): { message: string } | { digest: string } {
  return "message" in input ? { message: base64Of(input.message) } : { digest: digestHex(input.digest) };
}

export class KeysApi {
  constructor(private readonly call: SignedCaller) {}

  async create(request: CreateKeyRequest): Promise<Key> {
    const body = {
      op: OPERATIONS.keysCreate,
      name: request.name,
      purpose: request.purpose,
      rotation_period_days: request.rotationPeriodDays,
      description: request.description,
      labels: request.labels,
    };
    nameSegment(request.name);
    return this.call({ method: "POST", path: "/kms/keys", body }, (p) => key(p, request));
  }

  async get(name: string): Promise<Key> {
    return this.call({ method: "GET", path: this.keyPath(name) }, (p) => key(p, { name }));
  }

  /** One page of the app's keys, by name. */
  async list(page: PageRequest = {}): Promise<KeyPage> {
    const { pageSize, query } = pageQuery(page);
    return this.call({ method: "GET", path: `/kms/keys${query}` }, (p) => keyPage(p, pageSize), { list: true });
  }

  /** Every key, following page tokens (`for await (const key of kms.keys.listAll())`). */
  listAll(options: { pageSize?: number } = {}): AsyncGenerator<Key> {
    return allPages(async (pageToken) => {
      const { keys, nextPageToken } = await this.list({ ...options, ...(pageToken ? { pageToken } : {}) });
      return { items: keys, ...(nextPageToken ? { nextPageToken } : {}) };
    });
  }

  async update(name: string, changes: KeyChanges): Promise<Key> {
    const body = {
      op: OPERATIONS.keysUpdate,
      rotation_period_days: changes.rotationPeriodDays,
      description: changes.description,
      labels: changes.labels,
      primary_version: changes.primaryVersion,
    };
    return this.call({ method: "PATCH", path: this.keyPath(name), body }, (p) => key(p, { ...changes, name }));
  }

  /** A new ENABLED version becomes primary. */
  async rotate(name: string): Promise<Key> {
    const body = { op: OPERATIONS.keysRotate };
    return this.call({ method: "POST", path: this.keyPath(name, "/rotate"), body }, (p) => rotatedKey(p, name));
  }

  async versions(name: string, page: PageRequest = {}): Promise<VersionPage> {
    const { pageSize, query } = pageQuery(page);
    const path = this.keyPath(name, `/versions${query}`);
    return this.call({ method: "GET", path }, (p) => versionPage(p, pageSize), { list: true });
  }

  /** Every version of a key, oldest first, following page tokens. */
  allVersions(name: string, options: { pageSize?: number } = {}): AsyncGenerator<KeyVersion> {
    return allPages(async (pageToken) => {
      const { versions, nextPageToken } = await this.versions(name, {
        ...options,
        ...(pageToken ? { pageToken } : {}),
      });
      return { items: versions, ...(nextPageToken ? { nextPageToken } : {}) };
    });
  }

  async version(name: string, version: number): Promise<KeyVersion> {
    const path = this.versionPath(name, version);
    return this.call({ method: "GET", path }, (p) => keyVersion(p, version));
  }

  async enable(name: string, version: number): Promise<KeyVersion> {
    return this.changeVersion(name, version, "enable");
  }

  async disable(name: string, version: number): Promise<KeyVersion> {
    return this.changeVersion(name, version, "disable");
  }

  /** Schedules destruction (`destroy_at_ms`); `restore` before then brings the version back DISABLED. */
  async destroy(name: string, version: number): Promise<KeyVersion> {
    return this.changeVersion(name, version, "destroy");
  }

  async restore(name: string, version: number): Promise<KeyVersion> {
    return this.changeVersion(name, version, "restore");
  }

  async changeVersion(name: string, version: number, action: VersionAction): Promise<KeyVersion> {
    const path = this.versionPath(name, version, `/${action}`);
    const body = { op: ACTION_OPS[action] };
    return this.call({ method: "POST", path, body }, (p) => changedVersion(p, version, action));
  }

  async encrypt(name: string, plaintext: BinaryInput, options: { aad?: BinaryInput } = {}): Promise<EncryptResult> {
    const body = { op: OPERATIONS.keysEncrypt, plaintext: base64Of(plaintext), aad: optionalBase64(options.aad) };
    return this.call({ method: "POST", path: this.keyPath(name, "/encrypt"), body }, (p) => encryptResult(p, name));
  }

  /** The key comes from the ciphertext; the reply must name the key and version the ciphertext does. */
  async decrypt(ciphertext: string, options: { aad?: BinaryInput } = {}): Promise<DecryptResult> {
    const body = { op: OPERATIONS.keysDecrypt, ciphertext, aad: optionalBase64(options.aad) };
    const sent = readCiphertextHeader(ciphertext);
    return this.call({ method: "POST", path: "/kms/decrypt", body }, (p) => decryptResult(p, sent));
  }

  /** Decrypts and encrypts again under `key` (default: the ciphertext's own key), at its primary version. */
  async reencrypt(ciphertext: string, options: { aad?: BinaryInput; key?: string } = {}): Promise<ReencryptResult> {
    const body = { op: OPERATIONS.keysReencrypt, ciphertext, aad: optionalBase64(options.aad), key: options.key };
    const target = options.key ?? readCiphertextHeader(ciphertext)?.keyName;
    return this.call({ method: "POST", path: "/kms/reencrypt", body }, (p) => reencryptResult(p, target));
  }

  /** A fresh data key for local encryption, and the same key sealed under `name` to store beside the data. */
  async dataKey(name: string, options: DataKeyOptions = {}): Promise<DataKeyResult> {
    const bytes = positiveInteger(options.bytes ?? DEFAULT_DATA_KEY_BYTES, "bytes");
    const withPlaintext = options.withPlaintext ?? true;
    const body = {
      op: OPERATIONS.keysDataKey,
      bytes: options.bytes,
      aad: optionalBase64(options.aad),
      with_plaintext: options.withPlaintext,
    };
    const request = { method: "POST", path: this.keyPath(name, "/datakey"), body } as const;
    return this.call(request, (p) => dataKeyResult(p, { keyName: name, bytes, withPlaintext }));
  }

  async sign(name: string, input: SignInput): Promise<SignResult> {
    const body = { op: OPERATIONS.keysSign, ...signFields(input) };
    return this.call({ method: "POST", path: this.keyPath(name, "/sign"), body }, signResult);
  }

  /** False for a signature that does not verify (not an error); `version` defaults to any ENABLED one. */
  async verify(
    name: string,
    input: SignInput,
    signature: string,
    options: { version?: number } = {},
  ): Promise<boolean> {
    const body = { op: OPERATIONS.keysVerify, ...signFields(input), signature, version: options.version };
    return this.call({ method: "POST", path: this.keyPath(name, "/verify"), body }, validity);
  }

  /** The public half of a `sign-*` or `decrypt-rsa` key (the primary version unless one is named). */
  async publicKey(name: string, options: { version?: number } = {}): Promise<PublicKeyResult> {
    const { version } = options;
    const query = version === undefined ? "" : `?version=${positiveInteger(version, "version")}`;
    const path = this.keyPath(name, `/public_key${query}`);
    return this.call({ method: "GET", path }, (p) => publicKeyResult(p, version));
  }

  async mac(name: string, message: BinaryInput): Promise<MacResult> {
    const body = { op: OPERATIONS.keysMac, message: base64Of(message) };
    return this.call({ method: "POST", path: this.keyPath(name, "/mac"), body }, macResult);
  }

  async verifyMac(
    name: string,
    message: BinaryInput,
    mac: string,
    options: { version?: number } = {},
  ): Promise<boolean> {
    const body = { op: OPERATIONS.keysVerifyMac, message: base64Of(message), mac, version: options.version };
    return this.call({ method: "POST", path: this.keyPath(name, "/verify_mac"), body }, validity);
  }

  /** Plaintext of an RSA-OAEP/SHA-256 ciphertext made with a `decrypt-rsa` key's public key. */
  /** `bytes` (1..1024) random bytes from the node's TEE randomness (`POST /kms/random`). */
  async random(bytes: number): Promise<Uint8Array> {
    const body = { op: OPERATIONS.random, bytes: positiveInteger(bytes, "bytes") };
    return this.call({ method: "POST", path: "/kms/random", body }, (payload) => randomBytes(payload, bytes));
  }

  async decryptAsymmetric(name: string, version: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    const body = {
      op: OPERATIONS.keysDecryptAsymmetric,
      ciphertext: base64Of(ciphertext),
      version: positiveInteger(version, "version"),
    };
    return this.call({ method: "POST", path: this.keyPath(name, "/decrypt_asymmetric"), body }, asymmetricPlaintext);
  }

  private keyPath(name: string, rest = ""): string {
    return `/kms/keys/${nameSegment(name, "key name")}${rest}`;
  }

  private versionPath(name: string, version: number, rest = ""): string {
    return this.keyPath(name, `/versions/${positiveInteger(version, "version")}${rest}`);
  }
}
