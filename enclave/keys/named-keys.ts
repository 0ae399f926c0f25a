// PROTOCOL.md §12's named keys for every app on this node, over the replicated key records
// (key-records.ts). Lifecycle changes (create, update, rotate, version state) run under the key's
// cluster lease and answer once the cluster holds them (Commits, cluster/key-commits.ts);
// operations read the records, unwrap one version's material for the moment they use it, and
// forget it. Pure of HTTP: routes and the cloud front ends call the KeyApi.
import type { KeyApi, KeyChanges, KeySpec, KeyView, Page, VersionAction, VersionView } from "./api.js";
import { KeyInputError } from "./api.js";
import { decodeCiphertext } from "../protocol/named-key-ciphertext.js";
import {
  changeVersion,
  checkKeyName,
  isDueForRotation,
  keyView,
  KeyStateError,
  newKey,
  rotateKey,
  settle,
  updateKey,
  usableVersion,
  versionOf,
  type KeyRecord,
} from "./key-lifecycle.js";
import type { KeyRecords, Resource } from "./key-records.js";
import { generateMaterial, publicKeyOf, type PublicKeyInfo, type RandomSource } from "./material.js";
import { hasPublicKey, isKeyPurpose, type KeyPurpose, type SignPurpose } from "./purpose.js";
import { signWith, verifyWith, type SignInput } from "./signatures.js";
import {
  decryptAsymmetric,
  decryptUnder,
  encryptUnder,
  macWith,
  MAX_PLAINTEXT_BYTES,
  verifyMacWith,
} from "./symmetric.js";
import { unwrapMaterial, wrapMaterial } from "./wrap.js";
import { RandomPool } from "../crypto/random-pool.js";

const NONCE_BYTES = 12;
export const DATA_KEY_BYTES = { min: 16, max: 64, default: 32 } as const;
export const RANDOM_BYTES = { min: 1, max: 1024 } as const;
const SIGN_PURPOSES: readonly KeyPurpose[] = ["sign-secp256k1", "sign-p256", "sign-ed25519", "sign-rsa"];

/** The operation does not fit the key's purpose, or its input is out of range (→ 400). */
export class KeyUsageError extends Error {
  override name = "KeyUsageError";
}

/** How lifecycle changes become cluster-wide (cluster/key-commits.ts). */
export interface Commits {
  /**
   * Runs `change` while this node holds the resource's cluster lease, after merging the records
   * the other members hold for it, and resolves once the change is replicated as the commit rule
   * requires (README "Keys: replication").
   */
  commit<T>(resource: Resource, change: () => { value: T; position?: number }): Promise<T>;
  /** Resolves when this node's view of keys is current (it may have missed changes while stalled). */
  fresh(): Promise<void>;
}

export interface NamedKeysOptions {
  records: KeyRecords;
  commits: Commits;
  /** The key that wraps one key's material (derived from the master secret, keys/wrap.ts). */
  keyEncryptionKey: (appId: bigint, keyName: string) => Uint8Array;
  random: RandomSource;
  now?: () => number;
  /** KEY_DESTROY_DELAY_HOURS in ms. */
  destroyDelayMs: number;
}

export class NamedKeys implements KeyApi {
  private readonly now: () => number;
  /** GCM nonces need uniqueness, not the TEE's entropy: drawn from a local CSPRNG pool per call. */
  private readonly nonces = new RandomPool();

  constructor(private readonly options: NamedKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(appId: bigint, spec: KeySpec): Promise<KeyView> {
    checkKeyName(spec.name);
    if (!isKeyPurpose(spec.purpose)) throw new KeyInputError("unknown purpose");
    newKey(spec, this.now()); // validates the spec before the (possibly slow) material
    return this.addVersion(appId, spec.name, spec.purpose, () => {
      if (this.options.records.readKey(appId, spec.name)) {
        throw new KeyStateError("conflict", `key ${spec.name} already exists`);
      }
      const key = newKey(spec, this.now());
      return { key, version: 1, value: keyView(key) };
    });
  }

  async get(appId: bigint, name: string): Promise<KeyView> {
    await this.options.commits.fresh();
    return keyView(this.read(appId, name));
  }

  async list(appId: bigint, pageSize: number, afterName?: string): Promise<Page<KeyView, string>> {
    await this.options.commits.fresh();
    const names = this.options.records.names(appId, "key", afterName);
    const items = names.slice(0, pageSize).map((n) => keyView(this.read(appId, n)));
    return names.length > pageSize ? { items, nextAfter: items.at(-1)!.name } : { items };
  }

  async update(appId: bigint, name: string, changes: KeyChanges): Promise<KeyView> {
    checkKeyName(name);
    return this.change(appId, name, (key) => updateKey(key, changes, this.now()), keyView);
  }

  async rotate(appId: bigint, name: string): Promise<KeyView> {
    checkKeyName(name);
    await this.options.commits.fresh();
    return this.addVersion(appId, name, this.read(appId, name).purpose, () => {
      const { key, version } = rotateKey(this.read(appId, name), this.now());
      return { key, version: version.version, value: keyView(key) };
    });
  }

  /**
   * Scheduled rotation (key-maintenance.ts): rotates only if the key is still due once this node
   * holds the lease with every member's records merged, so the cluster makes exactly one version
   * however many nodes try at the same time. True when this call rotated.
   */
  async rotateIfDue(appId: bigint, name: string): Promise<boolean> {
    const before = this.options.records.readKey(appId, name);
    if (!before) return false;
    return this.addVersion(appId, name, before.purpose, () => {
      const current = this.options.records.readKey(appId, name);
      if (!current || !isDueForRotation(current, this.now())) return { value: false };
      const { key, version } = rotateKey(current, this.now());
      return { key, version: version.version, value: true };
    });
  }

  /**
   * Erases the material of versions whose destroy time has passed and records them DESTROYED
   * (key-maintenance.ts). Until then they are already refused everywhere (settle), so this only
   * makes the erasure durable and replicated. Returns how many versions it erased.
   */
  async eraseDestroyed(appId: bigint, name: string): Promise<number> {
    return this.options.commits.commit(this.resource(appId, name), () => {
      const stored = this.options.records.readKey(appId, name);
      if (!stored) return { value: 0 };
      const settled = settle(stored, this.now());
      const erase = settled.versions.filter(
        (v) => v.state === "DESTROYED" && this.options.records.hasMaterial(appId, name, v.version),
      );
      if (erase.length === 0 && settled === stored) return { value: 0 };
      for (const v of erase) this.options.records.eraseMaterial(appId, name, v.version);
      return { value: erase.length, position: this.options.records.writeKey(appId, settled) };
    });
  }

  async versions(appId: bigint, name: string, pageSize: number, afterVersion = 0): Promise<Page<VersionView, number>> {
    await this.options.commits.fresh();
    const all = this.read(appId, name).versions.filter((v) => v.version > afterVersion);
    const items = all.slice(0, pageSize);
    return all.length > pageSize ? { items, nextAfter: items.at(-1)!.version } : { items };
  }

  async version(appId: bigint, name: string, version: number): Promise<VersionView> {
    await this.options.commits.fresh();
    return versionOf(this.read(appId, name), version);
  }

  async changeVersion(appId: bigint, name: string, version: number, action: VersionAction): Promise<VersionView> {
    checkKeyName(name);
    return this.change(
      appId,
      name,
      (key) => changeVersion(key, version, action, this.now(), this.options.destroyDelayMs),
      (key) => versionOf(key, version),
    );
  }

  async encrypt(appId: bigint, name: string, plaintext: Uint8Array, aad: Uint8Array) {
    if (plaintext.length > MAX_PLAINTEXT_BYTES)
      throw new KeyUsageError(`plaintext exceeds ${MAX_PLAINTEXT_BYTES} bytes`);
    const nonce = this.nonces.take(NONCE_BYTES);
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, ["encrypt"]);
    return this.withMaterial(appId, key, version, (material) => ({
      ciphertext: encryptUnder({ appId, keyName: key.name, version: version.version }, material, plaintext, aad, nonce),
      version: version.version,
    }));
  }

  /** The key and version come from the ciphertext; a version that is not ENABLED → 409. */
  async decrypt(appId: bigint, ciphertext: string, aad: Uint8Array) {
    const parts = decodeCiphertext(ciphertext);
    await this.options.commits.fresh();
    const key = this.read(appId, parts.keyName);
    if (key.purpose !== "encrypt") throw new KeyUsageError(`key ${key.name} is not an encrypt key`);
    const version = usableVersion(key, parts.version);
    const plaintext = this.withMaterial(appId, key, version, (material) => decryptUnder(appId, parts, material, aad));
    return { plaintext, key: key.name, version: version.version };
  }

  async reencrypt(appId: bigint, ciphertext: string, aad: Uint8Array, targetKey?: string) {
    const opened = await this.decrypt(appId, ciphertext, aad);
    const target = targetKey ?? opened.key;
    try {
      const sealed = await this.encrypt(appId, target, opened.plaintext, aad);
      return { ciphertext: sealed.ciphertext, key: target, version: sealed.version };
    } finally {
      opened.plaintext.fill(0);
    }
  }

  async dataKey(appId: bigint, name: string, bytes: number = DATA_KEY_BYTES.default, aad = new Uint8Array()) {
    if (!Number.isInteger(bytes) || bytes < DATA_KEY_BYTES.min || bytes > DATA_KEY_BYTES.max) {
      throw new KeyUsageError(`bytes must be an integer in ${DATA_KEY_BYTES.min}..${DATA_KEY_BYTES.max}`);
    }
    const plaintext = await this.options.random(bytes);
    const sealed = await this.encrypt(appId, name, plaintext, aad);
    return { ciphertext: sealed.ciphertext, plaintext, version: sealed.version };
  }

  async sign(appId: bigint, name: string, input: SignInput) {
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, SIGN_PURPOSES);
    return this.withMaterial(appId, key, version, (material) => ({
      signature: signWith(key.purpose as SignPurpose, material, input),
      version: version.version,
    }));
  }

  async verify(appId: bigint, name: string, input: SignInput, signature: string, versionNumber?: number) {
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, SIGN_PURPOSES, versionNumber);
    return this.withMaterial(appId, key, version, (material) =>
      verifyWith(key.purpose as SignPurpose, material, input, signature),
    );
  }

  async publicKey(appId: bigint, name: string, versionNumber?: number): Promise<PublicKeyInfo & { version: number }> {
    await this.options.commits.fresh();
    const found = this.read(appId, name);
    if (!hasPublicKey(found.purpose)) throw new KeyUsageError(`a ${found.purpose} key has no public key`);
    const { key, version } = this.usable(appId, name, [found.purpose], versionNumber);
    return this.withMaterial(appId, key, version, (material) => ({
      ...publicKeyOf(key.purpose, material),
      version: version.version,
    }));
  }

  async mac(appId: bigint, name: string, message: Uint8Array) {
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, ["mac"]);
    return this.withMaterial(appId, key, version, (material) => ({
      mac: macWith(material, message),
      version: version.version,
    }));
  }

  async verifyMac(appId: bigint, name: string, message: Uint8Array, mac: string, versionNumber?: number) {
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, ["mac"], versionNumber);
    return this.withMaterial(appId, key, version, (material) => verifyMacWith(material, message, mac));
  }

  async decryptAsymmetric(appId: bigint, name: string, versionNumber: number, ciphertext: Uint8Array) {
    await this.options.commits.fresh();
    const { key, version } = this.usable(appId, name, ["decrypt-rsa"], versionNumber);
    return this.withMaterial(appId, key, version, (material) => decryptAsymmetric(material, ciphertext));
  }

  async random(bytes: number): Promise<Uint8Array> {
    if (!Number.isInteger(bytes) || bytes < RANDOM_BYTES.min || bytes > RANDOM_BYTES.max) {
      throw new KeyUsageError(`bytes must be an integer in ${RANDOM_BYTES.min}..${RANDOM_BYTES.max}`);
    }
    return this.options.random(bytes);
  }

  /** The key as of now (versions past their destroy time read as DESTROYED), or 404. */
  private read(appId: bigint, name: string): KeyRecord {
    checkKeyName(name);
    const key = this.options.records.readKey(appId, name);
    if (!key) throw new KeyStateError("not_found", `no key ${name}`);
    return settle(key, this.now());
  }

  /** A lifecycle change: under the lease, on the freshest record, committed cluster-wide. */
  private async change<T>(
    appId: bigint,
    name: string,
    apply: (key: KeyRecord) => KeyRecord,
    answer: (key: KeyRecord) => T,
  ) {
    return this.options.commits.commit(this.resource(appId, name), () => {
      const current = this.read(appId, name);
      const changed = apply(current);
      if (changed === current) return { value: answer(current) };
      return { value: answer(changed), position: this.options.records.writeKey(appId, changed) };
    });
  }

  private usable(appId: bigint, name: string, purposes: readonly KeyPurpose[], versionNumber?: number) {
    const key = this.read(appId, name);
    if (!purposes.includes(key.purpose)) throw new KeyUsageError(`key ${name} is a ${key.purpose} key`);
    return { key, version: usableVersion(key, versionNumber) };
  }

  private withMaterial<T>(appId: bigint, key: KeyRecord, version: VersionView, use: (material: Uint8Array) => T): T {
    const wrapped = this.options.records.readMaterial(appId, key.name, version.version);
    if (!wrapped) throw new KeyStateError("conflict", `version ${version.version} has no material (DESTROYED)`);
    const kek = this.options.keyEncryptionKey(appId, key.name);
    const material = unwrapMaterial(kek, { appId, keyName: key.name, version: version.version }, wrapped);
    try {
      return use(material);
    } finally {
      material.fill(0);
    }
  }

  private wrap(appId: bigint, name: string, version: number, material: Uint8Array, nonce: Uint8Array): Uint8Array {
    const kek = this.options.keyEncryptionKey(appId, name);
    return wrapMaterial(kek, { appId, keyName: name, version }, material, nonce);
  }

  /**
   * A new version: its material is made first, outside the lease (an RSA key takes a while and the
   * lease should be short); then, under the lease, `plan` decides the key record that gets it
   * (or that nothing is to be done), and material and record are written all-or-nothing.
   */
  private async addVersion<T>(
    appId: bigint,
    name: string,
    purpose: KeyPurpose,
    plan: () => { key: KeyRecord; version: number; value: T } | { value: T },
  ): Promise<T> {
    const material = await generateMaterial(purpose, this.options.random);
    const nonce = this.nonces.take(NONCE_BYTES);
    try {
      return await this.options.commits.commit(this.resource(appId, name), () => {
        const planned = plan();
        if (!("key" in planned)) return { value: planned.value };
        const wrapped = this.wrap(appId, name, planned.version, material, nonce);
        return {
          value: planned.value,
          position: this.options.records.writeVersion(appId, planned.key, planned.version, wrapped),
        };
      });
    } finally {
      material.fill(0);
    }
  }

  private resource(appId: bigint, name: string): Resource {
    return { appId, kind: "key", name };
  }
}
