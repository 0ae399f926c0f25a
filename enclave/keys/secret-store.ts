// One app's secrets (PROTOCOL.md §12): each put is a new version, a get reads the latest or a
// given version, a delete removes every version. Values are held sealed (AES-256-GCM under a key the
// caller derives per app, AAD = app id, name and version), like KV values, so a dump of this store
// holds no plaintext. Pure of HTTP and replication, like the KeyRing.
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_BYTES } from "../crypto/aead.js";
import { concatBytes, utf8 } from "../crypto/bytes.js";
import { KEY_NAME_PATTERN } from "./purpose.js";

export const MAX_SECRET_BYTES = 64 * 1024;

interface SecretVersion {
  version: number;
  createdAtMs: number;
  /** nonce ‖ ciphertext ‖ tag. */
  sealed: Uint8Array;
}

export interface SecretSummary {
  name: string;
  latestVersion: number;
  updatedAtMs: number;
}

/** No such secret, or no such version of it (→ 404). */
export class SecretNotFoundError extends Error {
  override name = "SecretNotFoundError";
}

export interface SecretStoreOptions {
  appId: bigint;
  /** The app's secret-sealing key (32 bytes), derived from the master secret by the caller. */
  sealingKey: () => Uint8Array;
  random: (n: number) => Promise<Uint8Array>;
  now?: () => number;
}

export class SecretStore {
  private readonly secrets = new Map<string, SecretVersion[]>();
  private readonly now: () => number;

  constructor(private readonly options: SecretStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async put(name: string, value: Uint8Array): Promise<{ name: string; version: number }> {
    if (!KEY_NAME_PATTERN.test(name)) throw new RangeError("secret name must match [A-Za-z0-9_.-]{1,128}");
    if (value.length > MAX_SECRET_BYTES) throw new RangeError(`secret exceeds ${MAX_SECRET_BYTES} bytes`);
    const versions = this.secrets.get(name) ?? [];
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const nonce = await this.options.random(GCM_NONCE_BYTES);
    const sealed = concatBytes(nonce, aesGcmEncrypt(this.options.sealingKey(), nonce, value, this.aad(name, version)));
    versions.push({ version, createdAtMs: this.now(), sealed });
    this.secrets.set(name, versions);
    return { name, version };
  }

  get(name: string, version?: number): { name: string; version: number; value: Uint8Array } {
    const versions = this.secrets.get(name);
    const found = version === undefined ? versions?.at(-1) : versions?.find((v) => v.version === version);
    if (!found)
      throw new SecretNotFoundError(version === undefined ? `no secret ${name}` : `no version ${version} of ${name}`);
    const nonce = found.sealed.subarray(0, GCM_NONCE_BYTES);
    const value = aesGcmDecrypt(
      this.options.sealingKey(),
      nonce,
      found.sealed.subarray(GCM_NONCE_BYTES),
      this.aad(name, found.version),
    );
    return { name, version: found.version, value };
  }

  /** Names in order, `pageSize` at a time after `afterName`. */
  list(pageSize: number, afterName?: string): { secrets: SecretSummary[]; nextAfter?: string } {
    const names = [...this.secrets.keys()].sort().filter((n) => afterName === undefined || n > afterName);
    const page = names.slice(0, pageSize).map((name) => {
      const latest = this.secrets.get(name)!.at(-1)!;
      return { name, latestVersion: latest.version, updatedAtMs: latest.createdAtMs };
    });
    return names.length > pageSize ? { secrets: page, nextAfter: page.at(-1)!.name } : { secrets: page };
  }

  /** Removes every version; their sealed bytes are zeroed first. */
  delete(name: string): { name: string; deleted: true } {
    const versions = this.secrets.get(name);
    if (!versions) throw new SecretNotFoundError(`no secret ${name}`);
    for (const v of versions) v.sealed.fill(0);
    this.secrets.delete(name);
    return { name, deleted: true };
  }

  private aad(name: string, version: number): Uint8Array {
    return utf8(`nkms-secret:${this.options.appId.toString()}:${name}:${version}`);
  }
}
