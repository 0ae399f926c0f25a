// The HTTP face of the Odyn simulator: the enclave runtime's internal API (the contract is written
// out at the top of enclave/tee/odyn.ts), backed by a SimulatedTee so that keys, signatures and
// envelopes are exactly those of simulation mode with the same seed. Input is validated strictly —
// stricter than Odyn, which ignores unknown fields — so a client that drifts from the contract
// fails here first. Bad input answers 400 with {"error": message}.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { HttpBindings } from "@hono/node-server";
import { z } from "zod";
import { getAddress, keccak256, parseTransaction, type Hex } from "viem";
import { bytesToBase64, bytesToHex, hexToBytes, utf8 } from "../../enclave/crypto/bytes.js";
import { parseP384PublicKey, P384_SPKI_BYTES } from "../../enclave/crypto/p384.js";
import { EnvelopeDecryptError, EnvelopeFormatError } from "../../enclave/crypto/envelope.js";
import { fromOdynTxPayload } from "../../enclave/tee/eip1559.js";
import { ENVELOPE_NONCE_BYTES } from "../../enclave/tee/common.js";
import { TeeInputError } from "../../enclave/tee/tee.js";
import type { SimulatedTee } from "../../enclave/tee/simulated.js";
import type { FaultInjector } from "./faults.js";

/** Large enough for a 1 MiB KV value after base64 and JSON escaping, as the node may send. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const RANDOM_BYTES_PER_CALL = 32;

type Env = { Bindings: HttpBindings };

class BadRequest extends Error {}

const hexField = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "must be hex of whole bytes (0x optional)");
// JSON may carry lone surrogate escapes that no UTF-8 string can hold; Odyn's parser refuses them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8Text = z.string().refine((s) => !LONE_SURROGATE.test(s), "must be valid Unicode text");

const signSchema = z
  .object({ message: utf8Text.min(1, "must not be empty"), include_attestation: z.boolean().optional() })
  .strict();
const signTxSchema = z.object({ payload: z.unknown(), include_attestation: z.boolean().optional() }).strict();
const encryptSchema = z.object({ plaintext: utf8Text, client_public_key: hexField }).strict();
const decryptSchema = z.object({ nonce: hexField, client_public_key: hexField, encrypted_data: hexField }).strict();

function explain(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

async function readBody<T>(c: Context<Env>, schema: z.ZodType<T>): Promise<T> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch {
    throw new BadRequest("body must be JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BadRequest(explain(parsed.error));
  return parsed.data;
}

function refuseAttestation(includeAttestation: boolean | undefined): void {
  // There is no NSM outside an enclave; an attestation the simulator made up would be a lie.
  if (includeAttestation) throw new BadRequest("attestation is not available in the simulator");
}

/** Odyn takes the client key as DER SPKI only. */
function clientSpki(hex: string): Uint8Array {
  const bytes = hexToBytes(hex);
  if (bytes.length !== P384_SPKI_BYTES || bytes[0] !== 0x30)
    throw new BadRequest("client_public_key must be a P-384 DER SubjectPublicKeyInfo");
  try {
    return parseP384PublicKey(bytes);
  } catch (err) {
    throw new BadRequest(`client_public_key: ${(err as Error).message}`);
  }
}

function pem(spki: Uint8Array): string {
  const lines = bytesToBase64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----`;
}

export interface RequestRecord {
  method: string;
  path: string;
}

/** Counts per path for tests, plus the latest few requests; bounded so a long dev run cannot grow it. */
export class RequestLog {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly latest: RequestRecord[] = [];

  constructor(private readonly keep: number) {}

  record(entry: RequestRecord): void {
    this.total++;
    // A client probing random paths must not grow the map: past 64 paths, the rest share one slot.
    const key = this.counts.has(entry.path) || this.counts.size < 64 ? entry.path : "(other)";
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.latest.push(entry);
    if (this.latest.length > this.keep) this.latest.shift();
  }

  count(path?: string): number {
    return path === undefined ? this.total : (this.counts.get(path) ?? 0);
  }

  get recent(): readonly RequestRecord[] {
    return [...this.latest];
  }
}

export function createOdynApp(
  tee: SimulatedTee,
  faults: FaultInjector,
  log: RequestLog,
  pause: (ms: number) => Promise<void>,
): Hono<Env> {
  const app = new Hono<Env>();
  const identity = tee.identity;
  const checksummed = getAddress(identity.wallet);

  // Recorded before faults apply, so tests can count every attempt a client made.
  app.use("*", async (c, next) => {
    log.record({ method: c.req.method, path: c.req.path });
    const fault = faults.take(c.req.path);
    if (fault?.kind === "status") return c.json({ error: "injected fault" }, fault.status as 500);
    if (fault?.kind === "drop") {
      c.env.incoming.socket.destroy();
      return new Response(null, { status: 500 });
    }
    if (fault?.kind === "reply") return c.json(fault.body as object, fault.status as 200);
    if (fault?.kind === "delay") await pause(fault.ms);
    await next();
  });
  app.use("*", bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: "body too large" }, 413) }));

  app.get("/v1/eth/address", (c) => c.json({ address: checksummed, public_key: tee.walletPublicKey }));

  app.post("/v1/eth/sign", async (c) => {
    const req = await readBody(c, signSchema);
    refuseAttestation(req.include_attestation);
    return c.json({ signature: await tee.signMessage(req.message), address: checksummed, attestation: null });
  });

  app.post("/v1/eth/sign-tx", async (c) => {
    const req = await readBody(c, signTxSchema);
    refuseAttestation(req.include_attestation);
    const raw = await tee.signTransaction(fromOdynTxPayload(req.payload));
    const signed = parseTransaction(raw);
    const signature = `0x${(signed.r ?? "0x").slice(2).padStart(64, "0")}${(signed.s ?? "0x").slice(2).padStart(64, "0")}${(signed.yParity ?? 0).toString(16).padStart(2, "0")}`;
    return c.json({
      raw_transaction: raw,
      transaction_hash: keccak256(raw),
      signature: signature as Hex,
      address: checksummed,
      attestation: null,
    });
  });

  app.get("/v1/random", async (c) =>
    c.json({ random_bytes: `0x${bytesToHex(await tee.randomBytes(RANDOM_BYTES_PER_CALL))}` }),
  );

  app.get("/v1/encryption/public_key", (c) =>
    c.json({ public_key_der: identity.teePubkeySpkiHex, public_key_pem: pem(identity.teePubkeySpki) }),
  );

  app.post("/v1/encryption/encrypt", async (c) => {
    const req = await readBody(c, encryptSchema);
    const envelope = await tee.encryptTo(clientSpki(req.client_public_key), utf8(req.plaintext));
    // Odyn answers these three without a 0x prefix.
    return c.json({
      encrypted_data: envelope.encrypted_data,
      enclave_public_key: envelope.sender_tee_pubkey,
      nonce: envelope.nonce,
    });
  });

  app.post("/v1/encryption/decrypt", async (c) => {
    const req = await readBody(c, decryptSchema);
    const nonce = hexToBytes(req.nonce);
    if (nonce.length !== ENVELOPE_NONCE_BYTES)
      throw new BadRequest(`nonce must be exactly ${ENVELOPE_NONCE_BYTES} bytes, got ${nonce.length}`);
    const { plaintext } = await tee.decryptFrom({
      senderPublicKey: clientSpki(req.client_public_key),
      nonce,
      ciphertext: hexToBytes(req.encrypted_data),
    });
    return c.json({ plaintext: new TextDecoder().decode(plaintext) });
  });

  // Known paths with the wrong method answer 405 as Odyn does, unknown paths 404.
  for (const path of [
    "/v1/eth/address",
    "/v1/eth/sign",
    "/v1/eth/sign-tx",
    "/v1/random",
    "/v1/encryption/public_key",
    "/v1/encryption/encrypt",
    "/v1/encryption/decrypt",
  ]) {
    app.all(path, (c) => c.json({ error: "method not allowed" }, 405));
  }
  app.notFound((c) => c.json({ error: "not found" }, 404));

  app.onError((err, c) => {
    if (err instanceof BadRequest || err instanceof TeeInputError || err instanceof EnvelopeFormatError)
      return c.json({ error: err.message }, 400);
    // Same answer for a bad tag and a replay, as from Odyn: nothing to learn from the difference.
    if (err instanceof EnvelopeDecryptError) return c.json({ error: "decryption failed" }, 400);
    return c.json({ error: "internal error" }, 500);
  });

  return app;
}
