// A stand-in for the KMS client built into the Nova enclave runtime (nova-enclave-capsule,
// `capsule-cli/src/integrations/nova_kms.rs`), written from reading its public source: what it asks a
// node for and every check it makes, step by step, so a conformance test can run it against a real
// node. Like the real one it never holds keys: it signs and seals through the runtime's HTTP API
// (here the Odyn simulator, started with the runtime's envelope label).
//
// The checks it makes, in its order:
//   discovery   registry getActiveInstances(kmsAppId) → getInstanceByWallet: same app, ACTIVE,
//               zkVerified; teePubkey as lower-case hex without 0x
//   identity    GET /status → node.tee_wallet and node.tee_pubkey (non-empty strings); the wallet
//               must equal the registry's and the tee_pubkey string must equal the registry's hex
//   call        GET /nonce → {nonce}; sign `NovaKMS:AppAuth:<nonce>:<registry wallet>:<ts>` through the
//               runtime; x-app-* headers; a body is the runtime's envelope of serde_json of the payload
//   response    non-2xx → error "KMS HTTP <status>: <body>"; x-kms-response-signature required and
//               checked like eth_key.rs verify_message (65 bytes, v must be a recovery id 0..3 — 27/28
//               are refused); body envelope sender_tee_pubkey (0x trimmed) must equal the registry hex
//               exactly; decrypted by the runtime
//   retries     every candidate node, up to 3 rounds, on any error (4xx included), fresh nonce each
//   KV keys     GET /kms/data/<form-urlencoded key> (space → "+", "/" → "%2F"); 404 → absent
import { keccak256, recoverPublicKey, toBytes, type Address, type Hex } from "viem";
import type { RegistryReader } from "../../enclave/chain/registry-reader.js";
import { bytesToHex, hexToBytes } from "../../enclave/crypto/bytes.js";

const REQUIRED_ROUNDS = 3;

export interface RuntimeKmsClientOptions {
  /** Base URL of the app's runtime API (the Odyn simulator in tests). */
  runtimeUrl: string;
  registry: RegistryReader;
  kmsAppId: bigint;
  /** Pause between retry rounds; the runtime uses 150 ms. */
  roundDelayMs?: number;
}

export interface Candidate {
  wallet: string;
  baseUrl: string;
  /** Registry teePubkey, lower-case hex, no 0x. */
  teePubkey: string;
}

/** One failed attempt on one node, as the runtime logs it. */
export class RuntimeKmsError extends Error {
  override name = "RuntimeKmsError";
}

const trim0x = (s: string) => s.replace(/^0[xX]/, "");

function canonicalWallet(wallet: string): string {
  const body = trim0x(wallet.trim().toLowerCase());
  if (!/^[0-9a-f]{40}$/.test(body)) throw new RuntimeKmsError(`invalid wallet address format: ${wallet}`);
  return `0x${body}`;
}

/** EIP-191 recovery as the runtime's eth_key.rs does it: the recovery byte must be 0..3. */
export async function runtimeVerifiesSignature(
  signatureHex: string,
  message: string,
  address: string,
): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(signatureHex);
  } catch {
    return false;
  }
  if (bytes.length !== 65) return false;
  const recoveryId = bytes[64] ?? 255;
  if (recoveryId > 3) return false;
  const prefixed = `\x19Ethereum Signed Message:\n${toBytes(message).length}${message}`;
  try {
    const publicKey = await recoverPublicKey({
      hash: keccak256(toBytes(prefixed)),
      signature: `0x${bytesToHex(bytes.subarray(0, 64))}${(27 + (recoveryId & 1)).toString(16)}` as Hex,
    });
    const recovered = `0x${keccak256(`0x${publicKey.slice(4)}` as Hex).slice(-40)}`;
    return recovered === address.toLowerCase();
  } catch {
    return false;
  }
}

export class RuntimeKmsClient {
  private readonly roundDelayMs: number;

  constructor(private readonly options: RuntimeKmsClientOptions) {
    this.roundDelayMs = options.roundDelayMs ?? 150;
  }

  async derive(path: string, context = "", length = 32): Promise<Uint8Array> {
    const reply = await this.call("POST", "/kms/derive", { path, context, length });
    if (typeof reply.key !== "string") throw new RuntimeKmsError("KMS response missing 'key'");
    return Buffer.from(reply.key, "base64");
  }

  /** The base64 value, or undefined when the node says 404. */
  async kvGet(key: string): Promise<string | undefined> {
    const encoded = new URLSearchParams({ k: key }).toString().slice(2);
    try {
      const reply = await this.call("GET", `/kms/data/${encoded}`);
      return typeof reply.value === "string" ? reply.value : undefined;
    } catch (e) {
      if (/kms http 404|key not found/i.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  async kvPut(key: string, valueBase64: string, ttlMs = 0): Promise<void> {
    await this.call("PUT", "/kms/data", { key, value: valueBase64, ttl_ms: ttlMs });
  }

  async kvDelete(key: string): Promise<void> {
    await this.call("DELETE", "/kms/data", { key });
  }

  /** Every candidate, up to three rounds, whatever the error; a 404 anywhere wins over other errors. */
  async call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    payload?: unknown,
  ): Promise<Record<string, unknown>> {
    const candidates = await this.discover();
    let lastError: Error | undefined;
    let notFound: Error | undefined;
    for (let round = 0; round < REQUIRED_ROUNDS; round++) {
      for (const node of candidates) {
        try {
          return await this.callNode(node, method, path, payload);
        } catch (e) {
          lastError = e as Error;
          if (/kms http 404/i.test(lastError.message)) notFound ??= lastError;
        }
      }
      if (round + 1 < REQUIRED_ROUNDS && this.roundDelayMs > 0)
        await new Promise((r) => setTimeout(r, this.roundDelayMs));
    }
    throw notFound ?? lastError ?? new RuntimeKmsError("KMS call failed with unknown error");
  }

  async discover(): Promise<Candidate[]> {
    const wallets = await this.options.registry.getActiveInstances(this.options.kmsAppId);
    const nodes: Candidate[] = [];
    for (const wallet of wallets) {
      const instance = await this.options.registry.getInstanceByWallet(canonicalWallet(wallet) as Address);
      if (instance.appId !== this.options.kmsAppId || instance.status !== 0 || !instance.zkVerified) continue;
      const teePubkey = bytesToHex(instance.teePubkey);
      if (!teePubkey) continue;
      nodes.push({ wallet: canonicalWallet(wallet), baseUrl: instance.instanceUrl.replace(/\/+$/, ""), teePubkey });
    }
    return nodes.sort((a, b) => a.baseUrl.localeCompare(b.baseUrl));
  }

  /** /status identity, checked against the registry exactly as the runtime does (string equality). */
  async identityOf(node: Candidate): Promise<{ wallet: string; teePubkey: string }> {
    const res = await fetch(`${node.baseUrl}/status`);
    if (!res.ok) throw new RuntimeKmsError(`status HTTP ${res.status}`);
    const data = (await res.json()) as { node?: { tee_wallet?: unknown; tee_pubkey?: unknown } };
    if (!data.node) throw new RuntimeKmsError("KMS /status response missing node");
    if (typeof data.node.tee_wallet !== "string")
      throw new RuntimeKmsError("KMS /status response missing node.tee_wallet");
    if (typeof data.node.tee_pubkey !== "string")
      throw new RuntimeKmsError("KMS /status response missing node.tee_pubkey");
    if (data.node.tee_pubkey.trim() === "") throw new RuntimeKmsError("KMS /status returned empty tee_pubkey");
    const status = { wallet: canonicalWallet(data.node.tee_wallet), teePubkey: trim0x(data.node.tee_pubkey) };
    if (status.wallet !== node.wallet) throw new RuntimeKmsError(`KMS node wallet mismatch for node=${node.baseUrl}`);
    if (status.teePubkey !== node.teePubkey)
      throw new RuntimeKmsError(`KMS node tee_pubkey mismatch for node=${node.baseUrl}`);
    return status;
  }

  /** One attempt on one node (no retries): identity, nonce, PoP, envelope, response checks. */
  async callNode(node: Candidate, method: string, path: string, payload?: unknown): Promise<Record<string, unknown>> {
    await this.identityOf(node);
    const nonceRes = await fetch(`${node.baseUrl}/nonce`);
    if (!nonceRes.ok) throw new RuntimeKmsError(`KMS /nonce HTTP ${nonceRes.status}`);
    const nonce = ((await nonceRes.json()) as { nonce?: unknown }).nonce;
    if (typeof nonce !== "string") throw new RuntimeKmsError("KMS /nonce response missing nonce");
    const ts = Math.floor(Date.now() / 1000);
    const clientSignature = (
      await this.runtime("POST", "/v1/eth/sign", {
        message: `NovaKMS:AppAuth:${nonce}:${node.wallet}:${ts}`,
        include_attestation: false,
      })
    ).signature as string;
    const appWallet = canonicalWallet((await this.runtime("GET", "/v1/eth/address")).address as string);

    const headers: Record<string, string> = {
      "x-app-signature": clientSignature,
      "x-app-nonce": nonce,
      "x-app-timestamp": String(ts),
      "x-app-wallet": appWallet,
    };
    let body: string | undefined;
    if (payload !== undefined) {
      const ownKey = trim0x((await this.runtime("GET", "/v1/encryption/public_key")).public_key_der as string);
      const sealed = await this.runtime("POST", "/v1/encryption/encrypt", {
        plaintext: JSON.stringify(payload),
        client_public_key: `0x${node.teePubkey}`,
      });
      body = JSON.stringify({
        sender_tee_pubkey: ownKey,
        nonce: trim0x(sealed.nonce as string),
        encrypted_data: trim0x(sealed.encrypted_data as string),
      });
      headers["content-type"] = "application/json";
    }
    const res = await fetch(`${node.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    if (!res.ok) throw new RuntimeKmsError(`KMS HTTP ${res.status}: ${text}`);

    const mutual = res.headers.get("x-kms-response-signature");
    if (!mutual) throw new RuntimeKmsError("KMS response missing X-KMS-Response-Signature");
    if (!(await runtimeVerifiesSignature(mutual, `NovaKMS:Response:${clientSignature}:${node.wallet}`, node.wallet))) {
      throw new RuntimeKmsError("KMS mutual response signature verification failed");
    }

    const envelope = JSON.parse(text) as { sender_tee_pubkey?: unknown; nonce?: unknown; encrypted_data?: unknown };
    if (typeof envelope.sender_tee_pubkey !== "string")
      throw new RuntimeKmsError("KMS response missing sender_tee_pubkey");
    if (trim0x(envelope.sender_tee_pubkey) !== node.teePubkey)
      throw new RuntimeKmsError("KMS response sender_tee_pubkey mismatch");
    if (typeof envelope.nonce !== "string") throw new RuntimeKmsError("KMS response missing nonce");
    if (typeof envelope.encrypted_data !== "string") throw new RuntimeKmsError("KMS response missing encrypted_data");
    const opened = await this.runtime("POST", "/v1/encryption/decrypt", {
      nonce: `0x${trim0x(envelope.nonce)}`,
      client_public_key: `0x${trim0x(envelope.sender_tee_pubkey)}`,
      encrypted_data: `0x${trim0x(envelope.encrypted_data)}`,
    });
    return JSON.parse(opened.plaintext as string) as Record<string, unknown>;
  }

  private async runtime(method: "GET" | "POST", path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.options.runtimeUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok)
      throw new RuntimeKmsError(
        `capsule_api ${method} failed path=${path} http=${res.status} body=${text.slice(0, 200)}`,
      );
    return JSON.parse(text) as Record<string, unknown>;
  }
}
