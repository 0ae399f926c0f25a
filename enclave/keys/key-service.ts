// The named-key operations of PROTOCOL.md §12 for every app, on one node: lifecycle through each
// app's KeyRing, material generated from the TEE's randomness and kept wrapped under a per-app-and-key
// KEK derived from the master secret, operations that unwrap a version only for the moment they use
// it. Pure of HTTP and of replication: routes and the cluster layer build on this (README "Keys").
import { decodeCiphertext } from "./ciphertext.js";
import { KeyRing, KeyStateError, type KeyVersion, type NamedKey } from "./key-ring.js";
import { generateMaterial, publicKeyOf, type PublicKeyInfo, type RandomSource } from "./material.js";
import { hasPublicKey, type KeyPurpose, type SignPurpose } from "./purpose.js";
import { signWith, verifyWith, type SignInput } from "./signatures.js";
import { decryptAsymmetric, decryptUnder, encryptUnder, macWith, verifyMacWith } from "./symmetric.js";
import { keyEncryptionKey, unwrapMaterial, wrapMaterial } from "./wrap.js";

const NONCE_BYTES = 12;
export const DATA_KEY_BYTES = { min: 16, max: 64, default: 32 } as const;
export const RANDOM_BYTES = { min: 1, max: 1024 } as const;

/** The operation does not fit the key's purpose, or its input is out of range (→ 400). */
export class KeyUsageError extends Error {
  override name = "KeyUsageError";
}

export interface KeyServiceOptions {
  /** The served master secret (the KEKs are derived from it). */
  masterSecret: () => Uint8Array;
  random: RandomSource;
  now?: () => number;
  /** KEY_DESTROY_DELAY_HOURS in ms. */
  destroyDelayMs: number;
}

export interface KeySpec {
  name: string;
  purpose: KeyPurpose;
  rotationPeriodDays?: number;
  description?: string;
  labels?: Record<string, string>;
}

export class KeyService {
  private readonly rings = new Map<string, KeyRing>();

  constructor(private readonly options: KeyServiceOptions) {}

  /** The app's keys (created on first use; an app sees only its own ring). */
  ring(appId: bigint): KeyRing {
    const id = appId.toString();
    let ring = this.rings.get(id);
    if (!ring) {
      ring = new KeyRing({
        destroyDelayMs: this.options.destroyDelayMs,
        ...(this.options.now ? { now: this.options.now } : {}),
      });
      this.rings.set(id, ring);
    }
    return ring;
  }

  async createKey(appId: bigint, spec: KeySpec): Promise<NamedKey> {
    const ring = this.ring(appId);
    // Checked before generating material (an RSA key takes a while); create() checks again.
    if (ring.has(spec.name)) throw new KeyStateError("conflict", `key ${spec.name} already exists`);
    const wrapped = await this.newWrappedVersion(appId, spec.name, spec.purpose, 1);
    return ring.create(spec, wrapped);
  }

  async rotate(appId: bigint, name: string): Promise<KeyVersion> {
    const ring = this.ring(appId);
    const key = ring.get(name);
    const next = Math.max(...key.versions.keys()) + 1;
    return ring.rotate(name, await this.newWrappedVersion(appId, name, key.purpose, next));
  }

  async encrypt(appId: bigint, name: string, plaintext: Uint8Array, aad: Uint8Array) {
    const { key, version } = this.primary(appId, name, ["encrypt"]);
    const material = this.material(appId, key, version);
    const ref = { appId, keyName: key.name, version: version.version };
    return {
      ciphertext: encryptUnder(ref, material, plaintext, aad, await this.options.random(NONCE_BYTES)),
      version: version.version,
    };
  }

  /** The key and version come from the ciphertext; a version that is not ENABLED → 409. */
  decrypt(appId: bigint, ciphertext: string, aad: Uint8Array) {
    const parts = decodeCiphertext(ciphertext);
    const { key, version } = this.ring(appId).usable(parts.keyName, parts.version);
    if (key.purpose !== "encrypt") throw new KeyUsageError(`key ${key.name} is not an encrypt key`);
    const plaintext = decryptUnder(appId, parts, this.material(appId, key, version), aad);
    return { plaintext, key: key.name, version: version.version };
  }

  /** Decrypts and encrypts again under `targetKey`'s primary (default: the same key's primary). */
  async reencrypt(appId: bigint, ciphertext: string, aad: Uint8Array, targetKey?: string) {
    const opened = this.decrypt(appId, ciphertext, aad);
    const target = targetKey ?? opened.key;
    const sealed = await this.encrypt(appId, target, opened.plaintext, aad);
    opened.plaintext.fill(0);
    return { ciphertext: sealed.ciphertext, key: target, version: sealed.version };
  }

  /** A fresh random data key, returned encrypted under the key (and in plaintext unless told not to). */
  async dataKey(
    appId: bigint,
    name: string,
    bytes: number = DATA_KEY_BYTES.default,
    aad: Uint8Array = new Uint8Array(),
  ) {
    if (!Number.isInteger(bytes) || bytes < DATA_KEY_BYTES.min || bytes > DATA_KEY_BYTES.max) {
      throw new KeyUsageError(`bytes must be an integer in ${DATA_KEY_BYTES.min}..${DATA_KEY_BYTES.max}`);
    }
    const plaintext = await this.options.random(bytes);
    const sealed = await this.encrypt(appId, name, plaintext, aad);
    return { ciphertext: sealed.ciphertext, plaintext, version: sealed.version };
  }

  sign(appId: bigint, name: string, input: SignInput) {
    const { key, version } = this.primary(appId, name, SIGN_PURPOSES);
    return {
      signature: signWith(key.purpose as SignPurpose, this.material(appId, key, version), input),
      version: version.version,
    };
  }

  /** Any ENABLED version verifies (default: the primary). */
  verify(appId: bigint, name: string, input: SignInput, signature: string, versionNumber?: number): boolean {
    const { key, version } = this.enabled(appId, name, SIGN_PURPOSES, versionNumber);
    return verifyWith(key.purpose as SignPurpose, this.material(appId, key, version), input, signature);
  }

  publicKey(appId: bigint, name: string, versionNumber?: number): PublicKeyInfo & { version: number } {
    const key = this.ring(appId).get(name);
    if (!hasPublicKey(key.purpose)) throw new KeyUsageError(`a ${key.purpose} key has no public key`);
    const { version } = this.enabled(appId, name, [key.purpose], versionNumber);
    return { ...publicKeyOf(key.purpose, this.material(appId, key, version)), version: version.version };
  }

  mac(appId: bigint, name: string, message: Uint8Array) {
    const { key, version } = this.primary(appId, name, ["mac"]);
    return { mac: macWith(this.material(appId, key, version), message), version: version.version };
  }

  verifyMac(appId: bigint, name: string, message: Uint8Array, mac: string, versionNumber?: number): boolean {
    const { key, version } = this.enabled(appId, name, ["mac"], versionNumber);
    return verifyMacWith(this.material(appId, key, version), message, mac);
  }

  decryptAsymmetric(appId: bigint, name: string, versionNumber: number, ciphertext: Uint8Array): Uint8Array {
    const { key, version } = this.enabled(appId, name, ["decrypt-rsa"], versionNumber);
    return decryptAsymmetric(this.material(appId, key, version), ciphertext);
  }

  async random(bytes: number): Promise<Uint8Array> {
    if (!Number.isInteger(bytes) || bytes < RANDOM_BYTES.min || bytes > RANDOM_BYTES.max) {
      throw new KeyUsageError(`bytes must be an integer in ${RANDOM_BYTES.min}..${RANDOM_BYTES.max}`);
    }
    return this.options.random(bytes);
  }

  private primary(appId: bigint, name: string, purposes: readonly KeyPurpose[]) {
    return this.enabled(appId, name, purposes, undefined);
  }

  private enabled(appId: bigint, name: string, purposes: readonly KeyPurpose[], versionNumber: number | undefined) {
    const ring = this.ring(appId);
    const key = ring.get(name);
    if (!purposes.includes(key.purpose)) throw new KeyUsageError(`key ${name} is a ${key.purpose} key`);
    return ring.usable(name, versionNumber);
  }

  private material(appId: bigint, key: NamedKey, version: KeyVersion): Uint8Array {
    if (!version.wrapped) throw new KeyStateError("conflict", `version ${version.version} is ${version.state}`);
    const kek = keyEncryptionKey(this.options.masterSecret(), appId, key.name);
    return unwrapMaterial(kek, { appId, keyName: key.name, version: version.version }, version.wrapped);
  }

  private async newWrappedVersion(
    appId: bigint,
    name: string,
    purpose: KeyPurpose,
    version: number,
  ): Promise<Uint8Array> {
    const material = await generateMaterial(purpose, this.options.random);
    const kek = keyEncryptionKey(this.options.masterSecret(), appId, name);
    const wrapped = wrapMaterial(
      kek,
      { appId, keyName: name, version },
      material,
      await this.options.random(NONCE_BYTES),
    );
    material.fill(0);
    return wrapped;
  }
}

const SIGN_PURPOSES: readonly KeyPurpose[] = ["sign-secp256k1", "sign-p256", "sign-ed25519", "sign-rsa"];
