// PROTOCOL.md §12's secrets for every app on this node: each put is a new version, a get reads the
// latest or a named version, a delete removes every version. Records live beside the app's keys
// (key-records.ts), sealed by the store like any value, and every change runs under the secret's
// cluster lease, so two puts on two nodes at once get two different version numbers.
import { KeyInputError, type Page, type SecretApi, type SecretSummary } from "./api.js";
import { checkKeyName } from "./key-lifecycle.js";
import type { Commits } from "./named-keys.js";
import type { KeyRecords, Resource } from "./key-records.js";

export const MAX_SECRET_BYTES = 64 * 1024;

/** No such secret, or no such version of it (→ 404). */
export class SecretNotFoundError extends Error {
  override name = "SecretNotFoundError";
}

export interface SecretsOptions {
  records: KeyRecords;
  commits: Commits;
  now?: () => number;
}

export class Secrets implements SecretApi {
  private readonly now: () => number;

  constructor(private readonly options: SecretsOptions) {
    this.now = options.now ?? Date.now;
  }

  async put(appId: bigint, name: string, value: Uint8Array): Promise<{ name: string; version: number }> {
    checkKeyName(name);
    if (value.length > MAX_SECRET_BYTES) throw new KeyInputError(`value exceeds ${MAX_SECRET_BYTES} bytes`);
    const { records } = this.options;
    return this.options.commits.commit(this.resource(appId, name), () => {
      const current = records.readSecret(appId, name) ?? { name, versions: [] };
      const version = (current.versions.at(-1)?.version ?? 0) + 1;
      const position = records.writeSecretVersion(
        appId,
        { name, versions: [...current.versions, { version, createdAtMs: this.now() }] },
        version,
        value,
      );
      return { value: { name, version }, position };
    });
  }

  async get(appId: bigint, name: string, version?: number) {
    checkKeyName(name);
    await this.options.commits.fresh();
    const secret = this.options.records.readSecret(appId, name);
    const found = version === undefined ? secret?.versions.at(-1) : secret?.versions.find((v) => v.version === version);
    const value = found && this.options.records.readSecretValue(appId, name, found.version);
    if (!found || !value) {
      throw new SecretNotFoundError(version === undefined ? `no secret ${name}` : `no version ${version} of ${name}`);
    }
    return { name, version: found.version, value };
  }

  async list(appId: bigint, pageSize: number, afterName?: string): Promise<Page<SecretSummary, string>> {
    await this.options.commits.fresh();
    const names = this.options.records.names(appId, "secret", afterName);
    const items = names.slice(0, pageSize).map((name) => {
      const latest = this.options.records.readSecret(appId, name)!.versions.at(-1)!;
      return { name, latestVersion: latest.version, updatedAtMs: latest.createdAtMs };
    });
    return names.length > pageSize ? { items, nextAfter: items.at(-1)!.name } : { items };
  }

  async delete(appId: bigint, name: string): Promise<{ name: string; deleted: true }> {
    checkKeyName(name);
    const { records } = this.options;
    return this.options.commits.commit(this.resource(appId, name), () => {
      const secret = records.readSecret(appId, name);
      if (!secret) throw new SecretNotFoundError(`no secret ${name}`);
      return { value: { name, deleted: true as const }, position: records.deleteSecret(appId, secret) };
    });
  }

  private resource(appId: bigint, name: string): Resource {
    return { appId, kind: "secret", name };
  }
}
