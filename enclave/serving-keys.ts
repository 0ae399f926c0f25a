// Everything derived from the master secret that request handlers use, built once per secret
// (not per request) and dropped together when the node stops serving.
import { deriveAppKey, deriveInternalKey } from "./crypto/kdf.js";
import { keyEncryptionKey } from "./keys/wrap.js";
import { createClusterCa, type CertificatePolicy, type ClusterCa } from "./crypto/ca.js";

/** Key-encryption keys kept derived (≈ 100 bytes each). */
const KEK_CACHE_ENTRIES = 10_000;

export class ServingKeys {
  readonly ca: ClusterCa;
  readonly syncMacKey: Uint8Array;
  private readonly dataKeys = new Map<string, Uint8Array>();
  private readonly keks = new Map<string, Uint8Array>();

  constructor(
    private readonly masterSecret: Uint8Array,
    certificatePolicy?: CertificatePolicy,
  ) {
    this.ca = createClusterCa(deriveInternalKey(masterSecret, { kind: "ca-root" }), {
      defaultPolicy: certificatePolicy,
    });
    this.syncMacKey = deriveInternalKey(masterSecret, { kind: "sync-mac" });
  }

  appKey(appId: bigint, path: string, context: string | undefined, length: number): Uint8Array {
    return deriveAppKey(this.masterSecret, appId, path, context ?? "", length);
  }

  /**
   * The key that wraps the material of one named key of one app (keys/wrap.ts). Derived once and
   * kept for the most recently used keys (an HKDF per operation was 15 % of an encrypt).
   */
  keyEncryptionKey(appId: bigint, keyName: string): Uint8Array {
    const id = `${appId}:${keyName}`;
    let kek = this.keks.get(id);
    if (kek) {
      this.keks.delete(id); // re-insert: Map order is the recency order
    } else {
      kek = keyEncryptionKey(this.masterSecret, appId, keyName);
      if (this.keks.size >= KEK_CACHE_ENTRIES) this.keks.delete(this.keks.keys().next().value!);
    }
    this.keks.set(id, kek);
    return kek;
  }

  /**
   * The per-app KV data key (internal domain; never reachable through appKey). The KV store asks for
   * it on every seal and open and keeps no copy, so this is the one cache of data keys.
   */
  dataKey(appId: bigint): Uint8Array {
    const id = appId.toString();
    let key = this.dataKeys.get(id);
    if (!key) {
      key = deriveInternalKey(this.masterSecret, { kind: "kv-data", appId });
      this.dataKeys.set(id, key);
    }
    return key;
  }
}
