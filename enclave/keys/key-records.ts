// Where an app's named keys and secrets live: records in the app's reserved namespace of the
// replicated KV store (id 2^256 + app id, which no app request can name; never evicted, see
// store/limits.ts). They therefore replicate, recover, repair and collect tombstones exactly like
// app data, and a change is acknowledged through the same change log (README "Keys: replication").
//
//   key/<name>/meta        the key and its versions' metadata (JSON)
//   key/<name>/v/<n>       version n's wrapped material (keys/wrap.ts); deleted once DESTROYED
//   secret/<name>/meta     the secret's versions (JSON)
//   secret/<name>/v/<n>    version n's value (sealed by the store like any value)
// Names match [A-Za-z0-9_.-], so "/" separates unambiguously and `key/<name>/` is exactly one
// key's records (what a lease hands over, cluster/key-leases.ts).
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
  constructor(private readonly store: () => KvStoreApi) {}

  readKey(appId: bigint, name: string): KeyRecord | undefined {
    return this.readJson<KeyRecord>(appId, `key/${name}/${META}`);
  }

  writeKey(appId: bigint, key: KeyRecord): number {
    return this.writeJson(appId, `key/${key.name}/${META}`, key);
  }

  readMaterial(appId: bigint, name: string, version: number): Uint8Array | undefined {
    return this.store().get(reservedNamespaceOf(appId), `key/${name}/v/${version}`)?.value;
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
    return names;
  }

  /** Apps that hold any key or secret (for scheduled rotation and destruction). */
  appsWithKeys(): bigint[] {
    return this.store()
      .appIds()
      .filter((id) => id >= RESERVED_NAMESPACE_BASE)
      .map((id) => id - RESERVED_NAMESPACE_BASE);
  }

  /** Every version of one resource's records, as the store replicates them. */
  wireRecords(r: Resource): unknown[] {
    return this.store().recordsWithPrefix(reservedNamespaceOf(r.appId), resourcePrefix(r));
  }

  private readJson<T>(appId: bigint, key: string): T | undefined {
    const found = this.store().get(reservedNamespaceOf(appId), key);
    return found ? (JSON.parse(decoder.decode(found.value)) as T) : undefined;
  }

  private writeJson(appId: bigint, key: string, value: unknown): number {
    return this.store().put(reservedNamespaceOf(appId), key, utf8(JSON.stringify(value))).position;
  }
}
