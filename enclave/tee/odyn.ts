// OdynTee: the TEE inside an enclave, reached through the enclave runtime's (Odyn / enclaver)
// internal HTTP API on loopback. The keys never leave Odyn; this client only moves requests.
//
// Assumed contract (taken from enclaver's published internal API and its handler code; binary
// fields are hex — Odyn emits `0x` on some and not on others, so every field is read with `0x`
// optional and sent with `0x`):
//   GET  /v1/eth/address            → {address (EIP-55), public_key (0x04… secp256k1, 65 bytes)}
//   POST /v1/eth/sign               {message (non-empty UTF-8 string), include_attestation: false}
//                                   → {signature (0x r‖s‖v, 65 bytes), address, attestation: null}
//   POST /v1/eth/sign-tx            {include_attestation: false, payload: {kind: "structured",
//                                     chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
//                                     gas_limit, value (0x hex quantities), to (address | null),
//                                     data (0x hex), access_list: [{address, storage_keys}]}}
//                                   (or payload {kind: "raw_rlp", raw_payload}); EIP-1559 only
//                                   → {raw_transaction, transaction_hash, signature, address, attestation}
//   GET  /v1/random                 → {random_bytes (0x, 32 bytes)}
//   GET  /v1/encryption/public_key  → {public_key_der (0x, P-384 SPKI 120 bytes), public_key_pem}
//   POST /v1/encryption/encrypt     {plaintext (UTF-8 string), client_public_key (0x SPKI)}
//                                   → {encrypted_data, enclave_public_key (SPKI), nonce (12 bytes)}
//   POST /v1/encryption/decrypt     {nonce (0x, exactly 12 bytes), client_public_key (0x SPKI),
//                                    encrypted_data (0x ciphertext‖tag)} → {plaintext (string)}
//                                   400 when the tag fails, the nonce is not 12 bytes, the plaintext
//                                   is not UTF-8, or the (client key, nonce) pair was seen before.
// Encryption is envelope v1 (PROTOCOL.md §5). Errors are 4xx for bad input, 5xx for faults.
//
// Failure policy: network errors and 5xx are retried with exponential backoff (Odyn restarting or
// briefly overloaded); 4xx never (the same request will fail the same way); a timeout is not
// retried either, because a hung Odyn rarely recovers within a caller's patience and retrying would
// multiply the wait. Errors carry the endpoint and status only — never a request or response body,
// which may hold plaintext or echo it back. Answers are read up to a byte bound (odynResponseLimit)
// and cut off beyond it, so a runtime that misbehaves cannot make the node buffer without end.
import { Pool } from "undici";
import { readBoundedText, ResponseTooLargeError } from "../protocol/bounded-body.js";
import pRetry from "p-retry";
import { z } from "zod";
import { recoverTransactionAddress, type Hex, type TransactionSerializable } from "viem";
import { bytesToHex, hexToBytes, utf8 } from "../crypto/bytes.js";
import { P384KeyError, parseP384PublicKey, p384SpkiFromSec1, sameP384PublicKey } from "../crypto/p384.js";
import {
  EnvelopeDecryptError,
  EnvelopeFormatError,
  type Envelope,
  type EnvelopeLabel,
  type OpenedEnvelope,
  type ParsedEnvelope,
} from "../crypto/envelope.js";
import { canonicalWallet } from "../crypto/secp256k1.js";
import { GCM_TAG_BYTES } from "../crypto/aead.js";
import { TeeInputError, TeeUnavailableError, type Tee } from "./tee.js";
import { toEip1559, toOdynStructuredTx, signedMatchesRequest } from "./eip1559.js";
import { checkRandomLength, decodeUtf8, ENVELOPE_NONCE_BYTES } from "./common.js";

export const DEFAULT_ODYN_URL = "http://127.0.0.1:18000";
const ODYN_RANDOM_CHUNK = 32;
const RANDOM_FETCH_CONCURRENCY = 8;

export type OdynFailure = "http" | "timeout" | "network" | "bad_response" | "too_large";

/** Room for an answer's JSON around its one large field (keys, quotes, a PEM, a wallet). */
const ODYN_RESPONSE_OVERHEAD_BYTES = 64 * 1024;

/**
 * The byte bound on Odyn's answers for a node whose largest request body (envelope JSON, hex) is
 * `largestRequestBodyBytes`. The two large answers: decrypt returns the plaintext of such a body —
 * at most half its hex, and at most twice that once escaped into a JSON string (a quote or a backslash becomes
 * two characters; JSON plaintexts hold no raw control characters) — so no more than the body itself;
 * encrypt returns the hex of one of our replies, which peers and the SDK read only up to that same
 * size (a KV value's reply ≈ 2.8 MB, a sync page up to SYNC_MAX_BODY_BYTES).
 */
export function odynResponseLimit(largestRequestBodyBytes: number): number {
  return largestRequestBodyBytes + ODYN_RESPONSE_OVERHEAD_BYTES;
}

/** odynResponseLimit for the node's default body limits (SYNC_MAX_BODY_BYTES, 8 MiB, is the larger). */
export const DEFAULT_ODYN_RESPONSE_BYTES = odynResponseLimit(8 * 1024 * 1024);

/** A call to Odyn failed. Safe to log and to show: endpoint, status and kind only. */
export class OdynError extends TeeUnavailableError {
  override readonly name = "OdynError";
  constructor(
    readonly endpoint: string,
    readonly failure: OdynFailure,
    readonly status?: number,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Odyn ${endpoint} failed: ${status !== undefined ? `HTTP ${status}` : failure}${detail ? ` (${detail})` : ""}`,
      options,
    );
  }

  /** Worth another attempt: the connection broke, or Odyn reported its own fault. */
  get retryable(): boolean {
    return this.failure === "network" || (this.failure === "http" && this.status !== undefined && this.status >= 500);
  }
}

export interface OdynTeeOptions {
  /** ODYN_URL; a path prefix is kept. */
  url?: string;
  /** Per attempt, covering connect, headers and body. */
  timeoutMs?: number;
  /** Extra attempts after the first, for network errors and 5xx only. */
  retries?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Keep-alive connections to Odyn. */
  connections?: number;
  /** Bytes read of any answer at most (default DEFAULT_ODYN_RESPONSE_BYTES); longer is an OdynError "too_large". */
  maxResponseBytes?: number;
}

const hexString = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "hex");
const addressResponse = z.object({ address: z.string(), public_key: hexString.optional() });
const signResponse = z.object({ signature: hexString, address: z.string().optional() });
const signTxResponse = z.object({
  raw_transaction: hexString,
  transaction_hash: hexString.optional(),
  address: z.string().optional(),
});
const randomResponse = z.object({ random_bytes: hexString });
const publicKeyResponse = z.object({ public_key_der: hexString, public_key_pem: z.string().optional() });
const encryptResponse = z.object({ encrypted_data: hexString, enclave_public_key: hexString, nonce: hexString });
const decryptResponse = z.object({ plaintext: z.string() });

const with0x = (bytes: Uint8Array): Hex => `0x${bytesToHex(bytes)}`;

export class OdynTee implements Tee {
  readonly kind = "odyn" as const;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly minRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxResponseBytes: number;
  // Identity never changes while the enclave runs: fetch once, share the in-flight promise, and
  // forget it on failure so a later call can try again.
  private addressPromise: Promise<string> | undefined;
  private publicKeyPromise: Promise<{ sec1: Uint8Array; spkiHex: string }> | undefined;

  constructor(options: OdynTeeOptions = {}) {
    const url = new URL(options.url ?? DEFAULT_ODYN_URL);
    if (url.protocol !== "http:") throw new Error("ODYN_URL must be an http:// URL (Odyn listens on loopback)");
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.timeoutMs = positiveInteger("timeoutMs", options.timeoutMs ?? 5_000, 1);
    this.retries = positiveInteger("retries", options.retries ?? 3, 0);
    this.minRetryDelayMs = positiveInteger("minRetryDelayMs", options.minRetryDelayMs ?? 50, 0);
    this.maxRetryDelayMs = positiveInteger("maxRetryDelayMs", options.maxRetryDelayMs ?? 1_000, this.minRetryDelayMs);
    this.maxResponseBytes = positiveInteger(
      "maxResponseBytes",
      options.maxResponseBytes ?? DEFAULT_ODYN_RESPONSE_BYTES,
      1,
    );
    this.pool = new Pool(url.origin, {
      connections: positiveInteger("connections", options.connections ?? 8, 1),
      keepAliveTimeout: 30_000,
    });
  }

  async address(): Promise<string> {
    this.addressPromise ??= this.call("GET", "/v1/eth/address", undefined, addressResponse).then((r) =>
      wallet("/v1/eth/address", r.address),
    );
    const pending = this.addressPromise;
    return this.remembered(pending, () => {
      if (this.addressPromise === pending) this.addressPromise = undefined;
    });
  }

  async signMessage(message: string): Promise<Hex> {
    if (typeof message !== "string" || message.length === 0)
      throw new TeeInputError("message must be a non-empty string");
    const endpoint = "/v1/eth/sign";
    // Identity first (cached after the first call), so a failed call never leaves a request dangling.
    const own = await this.address();
    const r = await this.call("POST", endpoint, { message, include_attestation: false }, signResponse);
    const signature = hexToBytes(r.signature);
    if (signature.length !== 65) throw new OdynError(endpoint, "bad_response", undefined, "signature is not 65 bytes");
    // Runtimes differ (the capsule runtime emits 0/1, older ones 27/28); the node always emits 0/1,
    // because the runtime's own KMS client refuses v > 3 (PROTOCOL.md §3).
    const v = signature[64] ?? 0;
    if (v === 27 || v === 28) signature[64] = v - 27;
    else if (v !== 0 && v !== 1)
      throw new OdynError(endpoint, "bad_response", undefined, "signature v is not 0, 1, 27 or 28");
    if (r.address !== undefined && wallet(endpoint, r.address) !== own)
      throw new OdynError(endpoint, "bad_response", undefined, "signed by another address");
    return with0x(signature);
  }

  async signTransaction(tx: TransactionSerializable): Promise<Hex> {
    const request = toEip1559(tx);
    const endpoint = "/v1/eth/sign-tx";
    const own = await this.address();
    const r = await this.call(
      "POST",
      endpoint,
      { include_attestation: false, payload: toOdynStructuredTx(request) },
      signTxResponse,
    );
    const raw = with0x(hexToBytes(r.raw_transaction));
    // Never hand back something other than what was asked for, signed by someone else.
    if (!signedMatchesRequest(raw, request))
      throw new OdynError(endpoint, "bad_response", undefined, "signed transaction differs from the request");
    let signer: string;
    try {
      signer = (
        await recoverTransactionAddress({
          serializedTransaction: raw as Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"],
        })
      ).toLowerCase();
    } catch (cause) {
      throw new OdynError(endpoint, "bad_response", undefined, "signature does not recover", { cause });
    }
    if (signer !== own) throw new OdynError(endpoint, "bad_response", undefined, "signed by another address");
    return raw;
  }

  async randomBytes(n: number): Promise<Uint8Array> {
    checkRandomLength(n);
    const out = new Uint8Array(n);
    const chunks = Math.ceil(n / ODYN_RANDOM_CHUNK);
    for (let first = 0; first < chunks; first += RANDOM_FETCH_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(RANDOM_FETCH_CONCURRENCY, chunks - first) }, () =>
        this.call("GET", "/v1/random", undefined, randomResponse),
      );
      const results = await Promise.all(batch);
      results.forEach((r, i) => {
        const bytes = hexToBytes(r.random_bytes);
        const offset = (first + i) * ODYN_RANDOM_CHUNK;
        const want = Math.min(ODYN_RANDOM_CHUNK, n - offset);
        if (bytes.length < want) throw new OdynError("/v1/random", "bad_response", undefined, "too few random bytes");
        out.set(bytes.subarray(0, want), offset);
      });
    }
    return out;
  }

  async encryptionPublicKey(): Promise<Uint8Array> {
    return (await this.ownPublicKey()).sec1.slice();
  }

  // The runtime seals under its own label; `_label` is only a preference (see Tee.encryptTo). A request
  // the runtime opened was sealed under that label, so a reply to it always matches.
  async encryptTo(recipientPublicKey: Uint8Array, plaintext: Uint8Array, _label?: EnvelopeLabel): Promise<Envelope> {
    const text = decodeUtf8(plaintext, (m) => new TeeInputError(m));
    const recipient = p384SpkiFromSec1(parseP384PublicKey(recipientPublicKey));
    const endpoint = "/v1/encryption/encrypt";
    const own = await this.ownPublicKey();
    const r = await this.call(
      "POST",
      endpoint,
      { plaintext: text, client_public_key: with0x(recipient) },
      encryptResponse,
    );
    const nonce = hexToBytes(r.nonce);
    const ciphertext = hexToBytes(r.encrypted_data);
    if (nonce.length !== ENVELOPE_NONCE_BYTES)
      throw new OdynError(endpoint, "bad_response", undefined, "nonce is not 12 bytes");
    if (ciphertext.length < GCM_TAG_BYTES)
      throw new OdynError(endpoint, "bad_response", undefined, "ciphertext shorter than the tag");
    // The envelope names our registered key as sender; if Odyn used another one, the peer could not open it.
    if (!samePoint(hexToBytes(r.enclave_public_key), own.sec1))
      throw new OdynError(endpoint, "bad_response", undefined, "encrypted under another key");
    return { sender_tee_pubkey: own.spkiHex, nonce: bytesToHex(nonce), encrypted_data: bytesToHex(ciphertext) };
  }

  async decryptFrom(envelope: ParsedEnvelope): Promise<OpenedEnvelope> {
    let sender: Uint8Array;
    try {
      sender = p384SpkiFromSec1(parseP384PublicKey(envelope.senderPublicKey));
    } catch (err) {
      if (err instanceof P384KeyError) throw new EnvelopeFormatError(`envelope sender key: ${err.message}`);
      throw err;
    }
    if (envelope.nonce.length !== ENVELOPE_NONCE_BYTES)
      throw new EnvelopeFormatError("envelope nonce must be 12 bytes");
    if (envelope.ciphertext.length < GCM_TAG_BYTES)
      throw new EnvelopeFormatError(`envelope encrypted_data must be at least ${GCM_TAG_BYTES} bytes`);
    const body = {
      nonce: with0x(envelope.nonce),
      client_public_key: with0x(sender),
      encrypted_data: with0x(envelope.ciphertext),
    };
    try {
      const r = await this.call("POST", "/v1/encryption/decrypt", body, decryptResponse);
      // The runtime opens only its own label and does not name it.
      return { plaintext: utf8(r.plaintext), label: undefined };
    } catch (err) {
      // Input was checked above, so a 4xx here means the envelope itself was refused (tag, replay, UTF-8).
      if (err instanceof OdynError && err.failure === "http" && err.status !== undefined && err.status < 500) {
        throw new EnvelopeDecryptError("envelope does not decrypt (refused by Odyn)", { cause: err });
      }
      // Past the bound the plaintext cannot be JSON of a body we accept (odynResponseLimit): the sender's fault.
      if (err instanceof OdynError && err.failure === "too_large") {
        throw new EnvelopeDecryptError("envelope plaintext is larger than any request body allows", { cause: err });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async ownPublicKey(): Promise<{ sec1: Uint8Array; spkiHex: string }> {
    const endpoint = "/v1/encryption/public_key";
    this.publicKeyPromise ??= this.call("GET", endpoint, undefined, publicKeyResponse).then((r) => {
      let sec1: Uint8Array;
      try {
        sec1 = parseP384PublicKey(hexToBytes(r.public_key_der));
      } catch (cause) {
        throw new OdynError(endpoint, "bad_response", undefined, "public_key_der is not a P-384 key", { cause });
      }
      return { sec1, spkiHex: bytesToHex(p384SpkiFromSec1(sec1)) };
    });
    const pending = this.publicKeyPromise;
    return this.remembered(pending, () => {
      if (this.publicKeyPromise === pending) this.publicKeyPromise = undefined;
    });
  }

  private async remembered<T>(promise: Promise<T>, forget: () => void): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      forget();
      throw err;
    }
  }

  private call<T>(method: "GET" | "POST", endpoint: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    return pRetry(() => this.attempt(method, endpoint, body, schema), {
      retries: this.retries,
      minTimeout: this.minRetryDelayMs,
      maxTimeout: this.maxRetryDelayMs,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => error instanceof OdynError && error.retryable,
    });
  }

  private async attempt<T>(method: "GET" | "POST", endpoint: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      let text: string;
      let status: number;
      try {
        const res = await this.pool.request({
          path: this.basePath + endpoint,
          method,
          headers:
            body === undefined
              ? { accept: "application/json" }
              : { accept: "application/json", "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
        status = res.statusCode;
        const length = res.headers["content-length"];
        text = await readBoundedText(res.body, this.maxResponseBytes, typeof length === "string" ? length : undefined);
      } catch (cause) {
        if (cause instanceof ResponseTooLargeError)
          throw new OdynError(endpoint, "too_large", undefined, `answer exceeds ${cause.limit} bytes`, { cause });
        if (timedOut)
          throw new OdynError(endpoint, "timeout", undefined, `no answer within ${this.timeoutMs} ms`, { cause });
        throw new OdynError(endpoint, "network", undefined, (cause as { code?: string }).code, { cause });
      }
      if (status < 200 || status >= 300) throw new OdynError(endpoint, "http", status);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new OdynError(endpoint, "bad_response", status, "not JSON");
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        // Field names only: values could be secrets.
        const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "body"))].join(", ");
        throw new OdynError(endpoint, "bad_response", status, `unexpected ${fields}`);
      }
      return parsed.data;
    } finally {
      clearTimeout(timer);
    }
  }
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`OdynTee ${name} must be an integer >= ${min}`);
  return value;
}

function wallet(endpoint: string, value: string): string {
  try {
    return canonicalWallet(value);
  } catch (cause) {
    throw new OdynError(endpoint, "bad_response", undefined, "address is not a wallet", { cause });
  }
}

function samePoint(a: Uint8Array, b: Uint8Array): boolean {
  try {
    return sameP384PublicKey(a, b);
  } catch {
    return false;
  }
}
