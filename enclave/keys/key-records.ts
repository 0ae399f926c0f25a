// Where an app's named keys and secrets live: records in the app's reserved namespace of the
// replicated KV store (id 2^256 + app id, which no app request can name; never evicted, see
// store/limits.ts). They therefore replicate, recover, repair and collect tombstones exactly like
// app data, and a change is acknowledged through the same change log (README "Keys: replication").
//
//   key/<name>/meta        the key and its versions' metadata (JSON)
//   key/<name>/v/<n>       version n's wrapped material (keys/wrap.ts); deleted once DESTROYED
//   secret/<name>/meta     the secret's versions (JSON)
//   secret/<name>/v/<n>    version n's value (sealed by the store like any value)
// Names match [A-Za-z0-9_.-], so "/" separates unambiguously and `key/<name>/` holds exactly one
// key's records; a lease hands over its meta and the versions that meta lists (wireRecords).
import { utf8 } from "../crypto/bytes.js";
import type { KvStoreApi } from "../store/api.js";
import { RESERVED_NAMESPACE_BASE } from "../store/limits.js";
import type { KeyRecord } from "./key-lifecycle.js";

export type ResourceKind = "key" | "secret";

/** One named key or secret of one app: the unit that lifecycle changes lock (cluster/key-leases.ts). */
export interface Resource {
  appId: bigint;
  kind: ResourceKind;
  name: string;
}

export interface SecretRecord {
  name: string;
  /** Ascending; deleting the secret deletes them all. */
  versions: Array<{ version: number; createdAtMs: number }>;
}

export function reservedNamespaceOf(appId: bigint): bigint {
  return RESERVED_NAMESPACE_BASE + appId;
}

/** The prefix of every record of one resource. */
export function resourcePrefix(r: Pick<Resource, "kind" | "name">): string {
  return `${r.kind}/${r.name}/`;
}

/** A resource as one string (lease tables, logs). */
export function resourceId(r: Resource): string {
  return `${r.appId}:${resourcePrefix(r)}`;
}

const META = "meta";
const decoder = new TextDecoder();

/**
 * Typed reads and writes of an app's key and secret records in the store. Writes return the
 * change-log position that holds them: what the commit waits for replicas to acknowledge.
 */
export class KeyRecords {
  /**
   * What was decoded from each stored version, keyed by the store's version token: every operation
   * reads its key's record and material, and opening and parsing them each time cost half of an
   * encrypt. A changed record is a new token, so nothing stale is ever served; entries go with the
   * versions they belong to. Holds records and *wrapped* material only — never material in clear.
   */
  private readonly decoded = new WeakMap<object, unknown>();

  constructor(private readonly store: () => KvStoreApi) {}

  readKey(appId: bigint, name: string): KeyRecord | undefined {
    return this.readJson<KeyRecord>(appId, `key/${name}/${META}`);
  }

  writeKey(appId: bigint, key: KeyRecord): number {
    return this.writeJson(appId, `key/${key.name}/${META}`, key);
  }

  /** The wrapped material (shared with the cache: callers must not change it). */
  readMaterial(appId: bigint, name: string, version: number): Uint8Array | undefined {
    return this.readCached(appId, `key/${name}/v/${version}`, (bytes) => bytes);
  }

  /**
   * A new version: its wrapped material, then the key record that names it. All or nothing: if the
   * record cannot be written (a full namespace), the material just written is deleted again.
   */
  writeVersion(appId: bigint, key: KeyRecord, version: number, wrapped: Uint8Array): number {
    this.store().put(reservedNamespaceOf(appId), `key/${key.name}/v/${version}`, wrapped);
    try {
      return this.writeKey(appId, key);
    } catch (e) {
      this.eraseMaterial(appId, key.name, version);
      throw e;
    }
  }

  /** Deletes a version's material for good (a tombstone that dominates every copy of it). */
  eraseMaterial(appId: bigint, name: string, version: number): number {
    return this.store().delete(reservedNamespaceOf(appId), `key/${name}/v/${version}`).position;
  }

  hasMaterial(appId: bigint, name: string, version: number): boolean {
    return this.readMaterial(appId, name, version) !== undefined;
  }

  readSecret(appId: bigint, name: string): SecretRecord | undefined {
    return this.readJson<SecretRecord>(appId, `secret/${name}/${META}`);
  }

  writeSecret(appId: bigint, secret: SecretRecord): number {
    return this.writeJson(appId, `secret/${secret.name}/${META}`, secret);
  }

  readSecretValue(appId: bigint, name: string, version: number): Uint8Array | undefined {
    return this.store().get(reservedNamespaceOf(appId), `secret/${name}/v/${version}`)?.value;
  }

  /** A new secret version: its value, then the record that names it, all or nothing (as writeVersion). */
  writeSecretVersion(appId: bigint, secret: SecretRecord, version: number, value: Uint8Array): number {
    const ns = reservedNamespaceOf(appId);
    this.store().put(ns, `secret/${secret.name}/v/${version}`, value);
    try {
      return this.writeSecret(appId, secret);
    } catch (e) {
      this.store().delete(ns, `secret/${secret.name}/v/${version}`);
      throw e;
    }
  }

  /** Deletes a secret's metadata and every version; returns the position of the last delete. */
  deleteSecret(appId: bigint, secret: SecretRecord): number {
    const store = this.store();
    const ns = reservedNamespaceOf(appId);
    for (const v of secret.versions) store.delete(ns, `secret/${secret.name}/v/${v.version}`);
    return store.delete(ns, `secret/${secret.name}/${META}`).position;
  }

  /** Names of the app's keys or secrets, sorted, after `afterName`. */
  names(appId: bigint, kind: ResourceKind, afterName?: string): string[] {
    const prefix = `${kind}/`;
    const suffix = `/${META}`;
    const names: string[] = [];
    for (const k of this.store().keys(reservedNamespaceOf(appId))) {
      if (!k.startsWith(prefix) || !k.endsWith(suffix)) continue;
      const name = k.slice(prefix.length, -suffix.length);
      if (afterName === undefined || name > afterName) names.push(name);
    }
    // Store keys sort as whole strings, where "key/a.b/meta" precedes "key/a/meta" ('.' < '/'):
    // sort the names themselves, or paging by "after this name" would skip some.
    return names.sort();
  }

  /** Apps that hold any key or secret (for scheduled rotation and destruction). */
  appsWithKeys(): bigint[] {
    return this.store()
      .appIds()
      .filter((id) => id >= RESERVED_NAMESPACE_BASE)
      .map((id) => id - RESERVED_NAMESPACE_BASE);
  }

  /**
   * Every version of one resource's records, as the store replicates them: its `meta` record and
   * the value record of every version that meta lists (looked up by key, not by scanning the app's
   * namespace). Without a live meta (absent or deleted) only the meta's own versions go: a deleted
   * secret's tombstone is enough for the receiver, its version tombstones follow by replication.
   */
  wireRecords(r: Resource): unknown[] {
    const prefix = resourcePrefix(r);
    const versions = (r.kind === "key" ? this.readKey(r.appId, r.name) : this.readSecret(r.appId, r.name))?.versions;
    const keys = [`${prefix}${META}`, ...(versions ?? []).map((v) => `${prefix}v/${v.version}`)];
    return this.store().recordsOf(reservedNamespaceOf(r.appId), keys);
  }

  /** Decoded records are shared with the cache: callers treat them as immutable (key-lifecycle.ts does). */
  private readJson<T>(appId: bigint, key: string): T | undefined {
    return this.readCached(appId, key, (bytes) => JSON.parse(decoder.decode(bytes)) as T);
  }

  private readCached<T>(appId: bigint, key: string, decode: (value: Uint8Array) => T): T | undefined {
    const store = this.store();
    const ns = reservedNamespaceOf(appId);
    const token = store.versionToken(ns, key);
    if (!token) return undefined;
    const hit = this.decoded.get(token);
    if (hit !== undefined) return hit as T;
    const found = store.get(ns, key);
    if (!found) return undefined;
    const value = decode(found.value);
    this.decoded.set(token, value);
    return value;
  }

  private writeJson(appId: bigint, key: string, value: unknown): number {
    return this.store().put(reservedNamespaceOf(appId), key, utf8(JSON.stringify(value))).position;
  }
}
