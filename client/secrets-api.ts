// `client.secrets`: the app's versioned secrets (PROTOCOL.md §12), named as the node's SecretApi
// (enclave/keys/api.ts). Each put is a new version; get reads the latest or a named one; delete
// removes every version. A missing secret is a 404 KmsRequestError: unlike a KV miss, the node does
// not sign §12 misses, so the SDK cannot call it proven (KmsNotFoundError).
import { OPERATIONS } from "../enclave/protocol/operations.js";
import type { SignedCaller } from "./keys-api.js";
import {
  allPages,
  base64Of,
  type BinaryInput,
  nameSegment,
  type PageRequest,
  pageQuery,
  positiveInteger,
} from "./request-inputs.js";
import {
  secret,
  secretDeleted,
  secretPage,
  secretPut,
  type Secret,
  type SecretPage,
  type SecretSummary,
  type SecretVersionRef,
} from "./secret-responses.js";

export class SecretsApi {
  constructor(private readonly call: SignedCaller) {}

  async put(name: string, value: BinaryInput): Promise<SecretVersionRef> {
    const body = { op: OPERATIONS.secretsPut, value: base64Of(value) };
    return this.call({ method: "PUT", path: secretPath(name), body }, (p) => secretPut(p, name));
  }

  async get(name: string, options: { version?: number } = {}): Promise<Secret> {
    const { version } = options;
    const query = version === undefined ? "" : `?version=${positiveInteger(version, "version")}`;
    return this.call({ method: "GET", path: `${secretPath(name)}${query}` }, (p) => secret(p, name, version));
  }

  /** One page of the app's secrets (names and latest versions, never values), by name. */
  async list(page: PageRequest = {}): Promise<SecretPage> {
    const { pageSize, query } = pageQuery(page);
    return this.call({ method: "GET", path: `/kms/secrets${query}` }, (p) => secretPage(p, pageSize), { list: true });
  }

  listAll(options: { pageSize?: number } = {}): AsyncGenerator<SecretSummary> {
    return allPages(async (pageToken) => {
      const { secrets, nextPageToken } = await this.list({ ...options, ...(pageToken ? { pageToken } : {}) });
      return { items: secrets, ...(nextPageToken ? { nextPageToken } : {}) };
    });
  }

  /**
   * Removes every version. The body (`op` only) is sealed like any other, so this sealed request
   * cannot be replayed against another route; third-party clients may send none.
   */
  async delete(name: string): Promise<true> {
    const body = { op: OPERATIONS.secretsDelete };
    return this.call({ method: "DELETE", path: secretPath(name), body }, (p) => secretDeleted(p, name));
  }
}

function secretPath(name: string): string {
  return `/kms/secrets/${nameSegment(name, "secret name")}`;
}
