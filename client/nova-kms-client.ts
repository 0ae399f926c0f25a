// The SDK a Nova app uses to reach the KMS cluster: discovery from the registry, one signed and
// sealed exchange per call (signed-request.ts), failover to another node when a node cannot answer,
// and typed results. A node that refuses (4xx) is believed at once — asking another node the same
// question would only hide the refusal; a response that fails verification is never retried away.
// Each body names its operation (`op`), so a node refuses it on any other route; each reply must
// echo what was asked (responses.ts), and a KV miss counts only when the node proves it.
import { bytesToBase64, utf8 } from "../enclave/crypto/bytes.js";
import {
  checkDerivedKeyRequest,
  DerivedPublicKeyError,
  verifyDerivedPublicKey,
  type DerivedKeyRequest,
} from "../enclave/crypto/derived-public-key.js";
import { DEFAULT_ENVELOPE_LABEL, type EnvelopeLabel } from "../enclave/crypto/envelope.js";
import { DEFAULT_DERIVE_LENGTH } from "../enclave/crypto/kdf.js";
import { OPERATIONS } from "../enclave/protocol/operations.js";
import { nodeStatusSchema, type NodeStatus } from "../enclave/protocol/views.js";
import { NodeDiscovery, nodeBaseUrl, type KmsNodeInfo, type KmsRegistryView } from "./discovery.js";
import {
  isRetryable,
  KmsClientError,
  KmsNotFoundError,
  KmsResponseVerificationError,
  type FailedAttempt,
} from "./errors.js";
import {
  derivedPublicKeyAnswer,
  deriveResult,
  kvDeleted,
  kvEntry,
  kvKeys,
  kvPutResult,
  ResponseShapeError,
  signedCertificate,
  type DeriveResult,
  type KvEntry,
  type KvPutResult,
  type SignedCertificate,
} from "./responses.js";
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  publicGet,
  signedRequest,
  type AppTee,
  type FetchLike,
  type SignedRequest,
} from "./signed-request.js";
import { undiciFetch } from "./undici-fetch.js";
import { KeysApi } from "./keys-api.js";
import { lookupOfPath } from "./request-inputs.js";
import { SecretsApi } from "./secrets-api.js";

export interface NovaKmsClientOptions {
  /** The app's own enclave identity (Odyn inside an enclave, a SimulatedTee in simulation). */
  tee: AppTee;
  /** Where KMS nodes are looked up; a RegistryReader in production. */
  registry: KmsRegistryView;
  /** The KMS cluster's app id in the NovaAppRegistry. */
  kmsAppId: bigint;
  /** Per-node budget for one call (nonce + request + response), default 10 000 ms. */
  timeoutMs?: number;
  /** Nodes tried per call before giving up, default 3. Each try goes to a different node. */
  maxAttempts?: number;
  /** Transport; default undici `request` on its shared keep-alive pool (see undici-fetch.ts). */
  fetch?: FetchLike;
  /** Accept `http:` node URLs; only for simulation on a trusted network. Default false. */
  allowHttp?: boolean;
  /** How long the discovered node list is reused, default 10 000 ms. */
  discoveryTtlMs?: number;
  /**
   * "spread" (default): each client starts at a random node, so many app instances share the load;
   * "ordered": registry order, predictable (tests, or a registry listing the nearest node first).
   */
  nodeSelection?: "spread" | "ordered";
  /**
   * HKDF label of the envelopes (PROTOCOL.md §5): the current Nova runtime's
   * `capsule-ecdh-aes256gcm-v1` (default) or the earlier `enclaver-ecdh-aes256gcm-v1`. Inside an
   * enclave the runtime decides (it seals under its own label); set it to match the runtime.
   */
  label?: EnvelopeLabel;
  /**
   * Bytes read of any answer at most (default 4 MiB: a node's largest, a 1 MiB KV value, is ≈ 2.8
   * MB on the wire); a longer one is cut off and fails with KmsResponseVerificationError.
   */
  maxResponseBytes?: number;
  /** The same bound for the list calls (`kv.list`, `keys.list`, `secrets.list`…), whose answers grow (default 64 MiB). */
  maxListResponseBytes?: number;
}

export const DEFAULT_MAX_LIST_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface DeriveRequest {
  path: string;
  context?: string;
  /** Key length in bytes, 1..1024 (node default 32). */
  length?: number;
}

export interface DerivedPublicKeyRequest {
  appId: bigint;
  path: string;
  /** Default "" (no context); must not end with ':' (README "API"). */
  context?: string;
}

/** An app's future secp256k1 key for a path and context, as a node vouched for it (checked). */
export interface DerivedPublicKey {
  appId: bigint;
  path: string;
  context: string;
  /** Uncompressed SEC1, 65 bytes (0x04 ‖ x ‖ y). */
  publicKey: Uint8Array;
  /** Lower-case 0x Ethereum address of the key. */
  address: string;
  /** The on-chain wallet of the node that signed, and its signature (EIP-191, v 0/1) over the statement. */
  nodeWallet: string;
  signature: string;
}

export interface SignCertRequest {
  csrPem: string;
  validityDays?: number;
}

export interface KvApi {
  /** The value, or undefined when the node proves the key absent, expired or deleted. */
  get(key: string): Promise<KvEntry | undefined>;
  put(key: string, value: Uint8Array | string, options?: { ttlMs?: number }): Promise<KvPutResult>;
  /** True when a value was deleted, false when the node proves there was none. */
  delete(key: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

export class NovaKmsClient {
  readonly kv: KvApi;
  /** Named keys and the operations on them (PROTOCOL.md §12; keys-api.ts). */
  readonly keys: KeysApi;
  /** Versioned secrets (PROTOCOL.md §12; secrets-api.ts). */
  readonly secrets: SecretsApi;
  private readonly discovery: NodeDiscovery;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxResponseBytes: number;
  private readonly maxListResponseBytes: number;
  private readonly cooldownMs: number;
  private readonly startOffset: number;
  /** Nodes that failed recently, tried last until the time stored here (ms). */
  private readonly coolingDown = new Map<string, number>();
  private appWallet: Promise<string> | undefined;

  constructor(private readonly options: NovaKmsClientOptions) {
    this.timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs");
    this.maxAttempts = positive(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, "maxAttempts");
    if (!Number.isInteger(this.maxAttempts)) throw new KmsClientError("maxAttempts must be an integer");
    this.maxResponseBytes = positive(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, "maxResponseBytes");
    this.maxListResponseBytes = positive(
      options.maxListResponseBytes ?? DEFAULT_MAX_LIST_RESPONSE_BYTES,
      "maxListResponseBytes",
    );
    this.cooldownMs = options.discoveryTtlMs ?? 10_000;
    this.fetchFn = options.fetch ?? undiciFetch;
    this.discovery = new NodeDiscovery({
      registry: options.registry,
      kmsAppId: options.kmsAppId,
      allowHttp: options.allowHttp ?? false,
      cacheTtlMs: this.cooldownMs,
    });
    this.startOffset = options.nodeSelection === "ordered" ? 0 : Math.floor(Math.random() * 1024);
    this.kv = {
      get: (key) => this.kvGet(key),
      put: (key, value, opts) => this.kvPut(key, value, opts),
      delete: (key) => this.kvDelete(key),
      list: () => this.call({ method: "GET", path: "/kms/data" }, kvKeys, { list: true }),
    };
    // A 404 of a named key or secret is "absent" only with the node's proof over its name.
    const call = <T>(request: SignedRequest, decode: (payload: unknown) => T, opts?: { list?: boolean }) =>
      this.call({ ...request, lookup: request.lookup ?? lookupOfPath(request.path) }, decode, opts);
    this.keys = new KeysApi(call);
    this.secrets = new SecretsApi(call);
  }

  /** `bytes` (1..1024) random bytes from the node's TEE randomness (the same as `keys.random`). */
  async random(bytes: number): Promise<Uint8Array> {
    return this.keys.random(bytes);
  }

  /** An app key from `/kms/derive`: the same path and context always give the same key. */
  async derive(request: DeriveRequest): Promise<DeriveResult> {
    const body = { op: OPERATIONS.derive, path: request.path, context: request.context, length: request.length };
    const asked = { path: request.path, length: request.length ?? DEFAULT_DERIVE_LENGTH };
    return this.call({ method: "POST", path: "/kms/derive", body }, (payload) => deriveResult(payload, asked));
  }

  /** A leaf certificate for the CSR from the cluster CA (subject bound to this app by the node). */
  async signCert(request: SignCertRequest): Promise<SignedCertificate> {
    const body = {
      op: OPERATIONS.signCert,
      csr: bytesToBase64(utf8(request.csrPem)),
      validity_days: request.validityDays,
    };
    return this.call({ method: "POST", path: "/kms/sign_cert", body }, signedCertificate);
  }

  /**
   * The cluster CA certificate (PEM) from the public `/kms/ca`. Unauthenticated by protocol: to
   * anchor trust, prefer `signCert(...).caCertificatePem`, which arrives inside the checked envelope.
   */
  async ca(): Promise<string> {
    return this.withFailover(async (node) => {
      const { text } = await publicGet({ fetch: this.fetchFn, node, timeoutMs: this.timeoutMs }, "/kms/ca");
      if (!text.includes("-----BEGIN CERTIFICATE-----"))
        throw new KmsResponseVerificationError(`${node.url}/kms/ca is not a PEM certificate`, node.url);
      return text;
    });
  }

  /**
   * The public key and address of the secp256k1 key `appId` gets from `derive({path, context})`
   * (32 bytes), from the public `GET /derived_public_key`, without being that app. The answer counts
   * only when its signature recovers to the answering node's on-chain wallet (from discovery) over
   * `NovaKMS:DerivedPublicKey:<app_id>:<path>:<context>:<address>`, the address is the public key's,
   * and every field is what was asked; else KmsResponseVerificationError (not retried).
   */
  async derivedPublicKey(request: DerivedPublicKeyRequest): Promise<DerivedPublicKey> {
    const asked: DerivedKeyRequest = { appId: request.appId, path: request.path, context: request.context ?? "" };
    try {
      checkDerivedKeyRequest(asked);
    } catch (e) {
      if (e instanceof DerivedPublicKeyError) throw new KmsClientError(e.message);
      throw e;
    }
    const query = new URLSearchParams({ app_id: asked.appId.toString(), path: asked.path, context: asked.context });
    return this.withFailover(async (node) => {
      const ctx = { fetch: this.fetchFn, node, timeoutMs: this.timeoutMs, maxResponseBytes: this.maxResponseBytes };
      const { text } = await publicGet(ctx, `/derived_public_key?${query.toString()}`);
      try {
        const answer = derivedPublicKeyAnswer(JSON.parse(text));
        const publicKey = verifyDerivedPublicKey(answer, asked, node.wallet);
        return {
          ...asked,
          publicKey,
          address: answer.address,
          nodeWallet: answer.node_wallet,
          signature: answer.signature,
        };
      } catch (e) {
        if (e instanceof SyntaxError || e instanceof ResponseShapeError || e instanceof DerivedPublicKeyError)
          throw new KmsResponseVerificationError(`derived public key from ${node.url}: ${e.message}`, node.url, {
            cause: e,
          });
        throw e;
      }
    });
  }

  /**
   * A node's self-reported `/status` in the shape of PROTOCOL.md §9 (informational only: nothing in
   * it is trusted); `kms` is present when the node is this implementation. Without an argument, the
   * first reachable registered node answers.
   */
  async status(node?: string | KmsNodeInfo): Promise<NodeStatus> {
    const read = async (target: KmsNodeInfo) => {
      const { text } = await publicGet({ fetch: this.fetchFn, node: target, timeoutMs: this.timeoutMs }, "/status");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new KmsResponseVerificationError(`${target.url}/status is not JSON`, target.url, { cause: e });
      }
      const parsed = nodeStatusSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.join(".") || "body";
        throw new KmsResponseVerificationError(`${target.url}/status: field ${field}: ${issue.message}`, target.url);
      }
      return parsed.data;
    };
    if (node === undefined) return this.withFailover(read);
    if (typeof node !== "string") return read(node);
    // An explicit URL is the caller's choice; only the scheme is normalized, nothing else is known.
    const url = nodeBaseUrl(node, true);
    if (!url) throw new KmsClientError(`not a usable node URL: ${node}`);
    return read({ url, wallet: "", teePubkey: new Uint8Array(), instanceId: 0n, versionId: 0n });
  }

  /** The KMS nodes registered on chain that this client would use (ACTIVE, zkVerified, usable URL). */
  async nodes(): Promise<KmsNodeInfo[]> {
    return (await this.discovery.nodes()).map((n) => ({ ...n, teePubkey: n.teePubkey.slice() }));
  }

  private async kvGet(key: string): Promise<KvEntry | undefined> {
    const lookup = { operation: OPERATIONS.kvGet, key };
    try {
      const path = `/kms/data/${encodeURIComponent(key)}`;
      return await this.call({ method: "GET", path, lookup }, (payload) => kvEntry(payload, key));
    } catch (e) {
      if (e instanceof KmsNotFoundError) return undefined;
      throw e;
    }
  }

  private async kvPut(key: string, value: Uint8Array | string, opts: { ttlMs?: number } = {}): Promise<KvPutResult> {
    const bytes = typeof value === "string" ? utf8(value) : value;
    const body = { op: OPERATIONS.kvPut, key, value: bytesToBase64(bytes), ttl_ms: opts.ttlMs };
    return this.call({ method: "PUT", path: "/kms/data", body }, (payload) => kvPutResult(payload, key));
  }

  private async kvDelete(key: string): Promise<boolean> {
    const request = { method: "DELETE", path: "/kms/data", body: { op: OPERATIONS.kvDelete, key } } as const;
    const lookup = { operation: OPERATIONS.kvDelete, key };
    try {
      return await this.call({ ...request, lookup }, (payload) => kvDeleted(payload, key));
    } catch (e) {
      if (e instanceof KmsNotFoundError) return false;
      throw e;
    }
  }

  /**
   * One signed call with failover; `decode` turns the inner JSON into the typed result. List replies
   * (`list: true`) grow with the app's data, so they are read under the larger list bound.
   */
  private async call<T>(
    request: SignedRequest,
    decode: (payload: unknown) => T,
    options: { list?: boolean } = {},
  ): Promise<T> {
    const maxResponseBytes = options.list ? this.maxListResponseBytes : this.maxResponseBytes;
    const appWallet = await this.wallet();
    return this.withFailover(async (node) => {
      const payload = await signedRequest(
        {
          fetch: this.fetchFn,
          tee: this.options.tee,
          appWallet,
          node,
          timeoutMs: this.timeoutMs,
          label: this.options.label ?? DEFAULT_ENVELOPE_LABEL,
          maxResponseBytes,
        },
        request,
      );
      try {
        return decode(payload);
      } catch (e) {
        if (e instanceof ResponseShapeError)
          throw new KmsResponseVerificationError(`response from ${node.url}: ${e.message}`, node.url, { cause: e });
        throw e;
      }
    });
  }

  private wallet(): Promise<string> {
    this.appWallet ??= this.options.tee.address().then((w) => w.toLowerCase());
    return this.appWallet;
  }

  /**
   * Runs `op` on one node after another until it succeeds, fails for a reason another node cannot
   * fix, or `maxAttempts` distinct nodes have failed. Failed nodes are tried last for a while and
   * the node list is re-read, so a node that left the registry stops being asked.
   */
  private async withFailover<T>(op: (node: KmsNodeInfo) => Promise<T>): Promise<T> {
    const failed: FailedAttempt[] = [];
    const tried = new Set<string>();
    let known: KmsNodeInfo[] | undefined;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        known = await this.discovery.nodes();
      } catch (e) {
        // Without any node answer yet, the registry problem is the story; after one, keep going
        // with the list we had rather than hide the node errors behind a registry hiccup.
        if (!known) throw e;
      }
      const node = this.pickNode(known, tried);
      if (!node) break;
      tried.add(node.url);
      try {
        return await op(node);
      } catch (e) {
        if (!(e instanceof Error) || !isRetryable(e)) {
          if (e instanceof KmsClientError) e.attempts = [...failed, { node: node.url, error: e }];
          throw e;
        }
        failed.push({ node: node.url, error: e });
        this.coolingDown.set(node.url, Date.now() + this.cooldownMs);
        this.discovery.invalidate();
      }
    }
    const last = failed.at(-1)?.error;
    if (last instanceof KmsClientError) {
      last.attempts = failed;
      throw last;
    }
    throw new KmsClientError("no KMS node could be tried");
  }

  private pickNode(nodes: KmsNodeInfo[], tried: Set<string>): KmsNodeInfo | undefined {
    const now = Date.now();
    const rotated = nodes.map((_, i) => nodes[(i + this.startOffset) % nodes.length] as KmsNodeInfo);
    const fresh = rotated.filter((n) => !tried.has(n.url));
    const healthy = fresh.filter((n) => (this.coolingDown.get(n.url) ?? 0) <= now);
    return healthy[0] ?? fresh[0];
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new KmsClientError(`${name} must be a positive number`);
  return value;
}
