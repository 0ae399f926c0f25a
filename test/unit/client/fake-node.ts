// A protocol-accurate stand-in for a KMS node, for the SDK's unit tests: real HTTP on a loopback
// port, the node's real PopVerifier and NonceStore, envelopes opened and sealed by a SimulatedTee,
// response signatures over the caller's x-app-signature, the request echo in every sealed reply and
// signed 404s for KV misses. Knobs make it misbehave in exactly one way at a time (wrong signer,
// wrong envelope key, no or another echo, unsigned 404s, error statuses, silence).
import { serve, type ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import type { AddressInfo } from "node:net";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier, readPopHeaders } from "../../../enclave/auth/pop-verifier.js";
import { InstanceStatus, type InstanceRecord, type LowerAddress } from "../../../enclave/chain/types.js";
import { base64ToBytes, bytesToBase64, bytesToHex, utf8 } from "../../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../../enclave/crypto/canonical-json.js";
import { parseEnvelope, type EnvelopeLabel } from "../../../enclave/crypto/envelope.js";
import { deriveAppKey } from "../../../enclave/crypto/kdf.js";
import { appNotFoundMessage, appResponseMessage } from "../../../enclave/crypto/pop.js";
import { KmsError } from "../../../enclave/errors.js";
import { buildStatusView } from "../../../enclave/http/views.js";
import { OPERATIONS, type LookupOperation } from "../../../enclave/protocol/operations.js";
import {
  bindToRequest,
  NOT_FOUND_SIGNATURE_HEADER,
  takeRequestNonce,
  type NonceVerdict,
} from "../../../enclave/protocol/reply-binding.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import type { KmsRegistryView } from "../../../client/discovery.js";

export const TEST_MASTER_SECRET = new Uint8Array(32).fill(7);
export const FAKE_KMS_APP_ID = 1n;
export const FAKE_KMS_REGISTRY = "0x000000000000000000000000000000000000cafe";
export const FAKE_CA_PEM = "-----BEGIN CERTIFICATE-----\nZmFrZSBjYQ==\n-----END CERTIFICATE-----\n";

export interface RegisteredApp {
  tee: SimulatedTee;
  appId: bigint;
}

export interface Misbehaviour {
  /** Every /kms/* call answers this status with a {code, message} body. */
  kmsStatus?: number;
  /** The code of that body (default: forbidden for 403, else service_unavailable). */
  kmsCode?: string;
  /** /nonce answers this status. */
  nonceStatus?: number;
  /** Sign responses with this TEE's wallet instead of the node's. */
  signWith?: SimulatedTee;
  /** Seal responses with this TEE's key instead of the node's. */
  sealWith?: SimulatedTee;
  /** Seal replies under this envelope label instead of the request's. */
  replyLabel?: EnvelopeLabel;
  /** Send no x-kms-response-signature. */
  omitSignature?: boolean;
  /** Sign over this string instead of the caller's x-app-signature. */
  signOverSignature?: string;
  /** Never answer /kms/* (the client must time out). */
  hang?: boolean;
  /** Seal and sign this payload instead of the route's own (a node speaking another protocol). */
  payload?: Record<string, unknown>;
  /** Seal replies without the request echo (a node from before it). */
  omitEcho?: boolean;
  /** Echo this string instead of the caller's x-app-signature (a reply to another request). */
  echo?: string;
  /** Answer KV misses with an unsigned 404 (a forged "absent"). */
  unsignedNotFound?: boolean;
  /** Sign KV misses over this key instead of the one asked (a 404 for a rewritten path). */
  notFoundKey?: string;
  /** Serve this document as /status. */
  status?: unknown;
}

export interface SeenRequest {
  method: string;
  /** Path exactly as sent (still percent-encoded). */
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** Whether the sealed body carried this request's nonce (undefined for a GET). */
  nonceBinding: NonceVerdict | undefined;
}

export interface FakeNode {
  url: string;
  tee: SimulatedTee;
  wallet: LowerAddress;
  misbehave: Misbehaviour;
  hits: { nonce: number; kms: number };
  seen: SeenRequest[];
  kv: Map<string, { value: string; updatedAtMs: number }>;
  close(): Promise<void>;
}

function fail(status: number, code: string, message: string): never {
  const err = new KmsError("bad_request", message);
  Object.assign(err, { status, code });
  throw err;
}

export async function startFakeNode(options: {
  seed: string;
  apps: RegisteredApp[];
  kmsAppId?: bigint;
}): Promise<FakeNode> {
  const tee = new SimulatedTee({ seed: options.seed });
  const wallet = tee.identity.wallet as LowerAddress;
  const nonces = new NonceStore({ ttlMs: 60_000, maxEntries: 1000 });
  const pop = new PopVerifier({ nonces, ownWallet: wallet, windowSeconds: 120 });
  const apps = new Map(options.apps.map((a) => [a.tee.identity.wallet, a]));
  const kv = new Map<string, { value: string; updatedAtMs: number }>();
  const node: Omit<FakeNode, "url" | "close"> = {
    tee,
    wallet,
    misbehave: {},
    hits: { nonce: 0, kms: 0 },
    seen: [],
    kv,
  };

  // The real node's view builder, so the SDK is tested against the shape nodes serve.
  const statusView = () =>
    buildStatusView({
      version: "fake",
      inEnclave: false,
      wallet,
      teePublicKey: tee.identity.teePubkey,
      kmsAppId: options.kmsAppId ?? FAKE_KMS_APP_ID,
      kmsRegistryAddress: FAKE_KMS_REGISTRY,
      configuredUrl: undefined,
      registration: { registered: true, instanceUrl: undefined },
      available: true,
      reason: "serving",
      secret: { ready: true, reason: "serving", onChainHash: undefined, origin: "preset", syncedFrom: undefined },
      members: 1,
      peers: 0,
      store: undefined,
      writeQuorum: { setting: "1", required: 1, waiting: 0, insufficientTotal: 0 },
      namedKeys: { stallsSeen: 0, leasesHeld: 0, rotated: 0, erased: 0, maintenanceFailed: 0 },
    });

  type Env = {
    Variables: { app: RegisteredApp; appSignature: string; body: unknown; label: EnvelopeLabel | undefined };
  };
  const app = new Hono<Env>();
  app.onError((err, c) => {
    const status = (err as KmsError).status ?? 500;
    const code = (err as KmsError).code ?? "internal_error";
    return c.json({ code, message: err.message }, status as 400);
  });

  app.get("/nonce", (c) => {
    node.hits.nonce++;
    if (node.misbehave.nonceStatus) fail(node.misbehave.nonceStatus, "service_unavailable", "nonce refused");
    return c.json({ nonce: nonces.issue() });
  });
  // The real node's view builder, so the SDK is tested against the shape nodes serve.
  app.get("/status", (c) => c.json(node.misbehave.status ?? statusView()));
  app.get("/kms/ca", (c) => c.body(FAKE_CA_PEM, 200, { "content-type": "application/x-pem-file" }));

  app.use("/kms/*", async (c, next) => {
    node.hits.kms++;
    if (node.misbehave.hang) return new Promise<Response>(() => {});
    if (node.misbehave.kmsStatus)
      fail(
        node.misbehave.kmsStatus,
        node.misbehave.kmsCode ?? (node.misbehave.kmsStatus === 403 ? "forbidden" : "service_unavailable"),
        "told to fail",
      );
    const verified = pop.verify(
      "app",
      readPopHeaders("app", (n) => c.req.header(n)),
    );
    const caller = apps.get(verified.wallet);
    if (!caller) fail(403, "forbidden", "Instance not found");
    let body: unknown;
    let label: EnvelopeLabel | undefined;
    let nonceBinding: NonceVerdict | undefined;
    if (c.req.method !== "GET") {
      const envelope = parseEnvelope(JSON.parse(await c.req.text()));
      if (bytesToHex(envelope.senderPublicKey) !== bytesToHex(caller.tee.identity.teePubkey))
        fail(403, "forbidden", "sender_tee_pubkey mismatch");
      // Like the real node: an envelope it cannot open is the caller's fault (400).
      const opened = await tee
        .decryptFrom(envelope)
        .catch(() => fail(400, "bad_request", "Envelope could not be decrypted"));
      body = JSON.parse(new TextDecoder().decode(opened.plaintext));
      label = opened.label;
      // Like the real node: the body's request_nonce must be this request's PoP nonce; routes never see it.
      nonceBinding = takeRequestNonce(body, c.req.header("x-app-nonce"));
      if (nonceBinding === "other_request") fail(403, "forbidden", "request_nonce is not this request's nonce");
    }
    node.seen.push({
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      headers: Object.fromEntries(c.req.raw.headers),
      body,
      nonceBinding,
    });
    c.set("app", caller);
    c.set("appSignature", verified.signature);
    c.set("body", body);
    c.set("label", label);
    await next();
  });

  async function reply(c: Context<Env>, payload: Record<string, unknown>): Promise<Response> {
    const m = node.misbehave;
    const content = m.payload ?? payload;
    const sealed = m.omitEcho ? content : bindToRequest(content, m.echo ?? c.get("appSignature"));
    const envelope = await (m.sealWith ?? tee).encryptTo(
      c.get("app").tee.identity.teePubkey,
      utf8(canonicalJson(sealed)),
      m.replyLabel ?? c.get("label"),
    );
    if (!m.omitSignature) {
      const message = appResponseMessage(m.signOverSignature ?? c.get("appSignature"), wallet);
      c.header("x-kms-response-signature", await (m.signWith ?? tee).signMessage(message));
    }
    return c.json(envelope);
  }
  /** The node's KV miss: plaintext 404, with the not-found proof unless told to forge one. */
  async function notFound(c: Context<Env>, operation: LookupOperation, key: string): Promise<Response> {
    const m = node.misbehave;
    if (!m.unsignedNotFound) {
      const message = appNotFoundMessage(c.get("appSignature"), wallet, operation, m.notFoundKey ?? key);
      c.header(NOT_FOUND_SIGNATURE_HEADER, await tee.signMessage(message));
    }
    return c.json({ code: "not_found", message: "Key not found" }, 404);
  }
  const appIdOf = (c: Context<Env>) => Number(c.get("app").appId);
  const kvKey = (c: Context<Env>, key: string) => `${c.get("app").appId}/${key}`;

  app.post("/kms/derive", (c) => {
    const { path, context, length = 32 } = c.get("body") as { path: string; context?: string; length?: number };
    const key = deriveAppKey(TEST_MASTER_SECRET, c.get("app").appId, path, context ?? "", length);
    return reply(c, { app_id: appIdOf(c), path, key: bytesToBase64(key), length });
  });
  app.get("/kms/data", (c) => {
    const prefix = `${c.get("app").appId}/`;
    const keys = [...kv.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    return reply(c, { app_id: appIdOf(c), keys, count: keys.length });
  });
  app.get("/kms/data/:key", (c) => {
    const key = c.req.param("key");
    const entry = kv.get(kvKey(c, key));
    if (!entry) return notFound(c, OPERATIONS.kvGet, key);
    return reply(c, { app_id: appIdOf(c), key, value: entry.value, updated_at_ms: entry.updatedAtMs });
  });
  app.put("/kms/data", (c) => {
    const { key, value } = c.get("body") as { key: string; value: string };
    base64ToBytes(value);
    const updatedAtMs = Date.now();
    kv.set(kvKey(c, key), { value, updatedAtMs });
    return reply(c, { app_id: appIdOf(c), key, updated_at_ms: updatedAtMs });
  });
  app.delete("/kms/data", (c) => {
    const { key } = c.get("body") as { key: string };
    if (!kv.delete(kvKey(c, key))) return notFound(c, OPERATIONS.kvDelete, key);
    return reply(c, { app_id: appIdOf(c), key, deleted: true });
  });
  app.post("/kms/sign_cert", (c) => {
    const { csr } = c.get("body") as { csr: string };
    const leaf = `-----BEGIN CERTIFICATE-----\n${bytesToBase64(base64ToBytes(csr).subarray(0, 12))}\n-----END CERTIFICATE-----\n`;
    return reply(c, { certificate: bytesToBase64(utf8(leaf)), ca_certificate: bytesToBase64(utf8(FAKE_CA_PEM)) });
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  // The same object the handlers read, so tests may replace `misbehave` wholesale.
  return Object.assign(node, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging handlers keep sockets open; drop them so close() returns.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  });
}

/** An instance record as the registry would return it for a node or an app. */
export function instanceOf(
  tee: SimulatedTee,
  appId: bigint,
  url: string,
  overrides: Partial<InstanceRecord> = {},
): InstanceRecord {
  return {
    id: BigInt(Math.floor(Math.random() * 1e6) + 1),
    appId,
    versionId: 1n,
    operator: "0x0000000000000000000000000000000000000001",
    instanceUrl: url,
    teePubkey: tee.identity.teePubkeySpki,
    teeWallet: tee.identity.wallet as LowerAddress,
    zkVerified: true,
    status: InstanceStatus.ACTIVE,
    registeredAt: 1n,
    ...overrides,
  };
}

/** An in-memory registry with the two reads discovery makes; counts reads so caching is visible. */
export function memoryRegistry(
  instances: InstanceRecord[],
): KmsRegistryView & { reads: number; instances: InstanceRecord[]; broken: boolean } {
  const view = {
    reads: 0,
    instances,
    broken: false,
    async getActiveInstances(appId: bigint) {
      view.reads++;
      if (view.broken) throw new Error("registry unreachable");
      // No status filter: discovery must re-check what the registry's list implies.
      return view.instances.filter((i) => i.appId === appId).map((i) => i.teeWallet);
    },
    async getInstanceByWallet(w: string) {
      if (view.broken) throw new Error("registry unreachable");
      const found = view.instances.find((i) => i.teeWallet === w.toLowerCase());
      return found ?? instanceOf(new SimulatedTee({ seed: "nobody" }), 0n, "", { id: 0n });
    },
  };
  return view as never;
}
