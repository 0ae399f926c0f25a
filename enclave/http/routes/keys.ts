// Named keys and their operations over HTTP (PROTOCOL.md §12). Every route acts in the caller's
// own namespace (its registered app id): another app's key is indistinguishable from an absent one.
// Bodies are strict (an unknown field is a 400) and may carry our SDK's `op`, so a sealed body is
// obeyed on its own route only. Wire choices the protocol leaves open: README "Keys".
import { Hono, type Context } from "hono";
import { z } from "zod";
import { bytesToBase64, hexToBytes } from "../../crypto/bytes.js";
import { badRequest } from "../../errors.js";
import type { KeyApi, VersionAction } from "../../keys/api.js";
import { keyJson, versionJson } from "../../protocol/key-views.js";
import { KEY_PURPOSES } from "../../keys/purpose.js";
import type { SignInput } from "../../keys/signatures.js";
import { OPERATIONS } from "../../protocol/operations.js";
import { proveMisses, replyToApp } from "../app-reply.js";
import type { KmsEnv } from "../context.js";
import { keyCall } from "../key-errors.js";
import { base64Bytes, parseBody, versionNumber } from "../validate.js";
import { decodePageToken, nextPageField, pageSizeOf } from "./paging.js";

const base64 = base64Bytes;
const hexDigest = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be hex of 32 bytes");
const hexString = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "must be hex");
const version = z.number().int().min(1).max(0xffff_ffff);
const LABEL_KEY = /^[a-z0-9_-]{1,63}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const labels = z
  .record(
    z.string().regex(LABEL_KEY, "label keys must match [a-z0-9_-]{1,63}"),
    z.string().regex(LABEL_VALUE, "label values must match [a-z0-9_-]{0,63}"),
  )
  .refine((l) => Object.keys(l).length <= 64, "at most 64 labels");
const description = z.string().max(1024);
const rotationPeriodDays = z.number().min(0).max(3650);
const op = <T extends string>(name: T) => z.literal(name).optional();

const createRequest = z
  .object({
    name: z.string(),
    purpose: z.enum(KEY_PURPOSES),
    rotation_period_days: rotationPeriodDays.optional(),
    description: description.optional(),
    labels: labels.optional(),
    op: op(OPERATIONS.keysCreate),
  })
  .strict();
const updateRequest = z
  .object({
    rotation_period_days: rotationPeriodDays.optional(),
    description: description.optional(),
    labels: labels.optional(),
    primary_version: version.optional(),
    op: op(OPERATIONS.keysUpdate),
  })
  .strict();
const emptyRequest = <T extends string>(name: T) => z.object({ op: op(name) }).strict();
const rotateRequest = emptyRequest(OPERATIONS.keysRotate);
const encryptRequest = z.object({ plaintext: base64, aad: base64.optional(), op: op(OPERATIONS.keysEncrypt) }).strict();
const decryptRequest = z
  .object({ ciphertext: z.string().max(200_000), aad: base64.optional(), op: op(OPERATIONS.keysDecrypt) })
  .strict();
const reencryptRequest = z
  .object({
    ciphertext: z.string().max(200_000),
    aad: base64.optional(),
    key: z.string().optional(),
    op: op(OPERATIONS.keysReencrypt),
  })
  .strict();
const dataKeyRequest = z
  .object({
    bytes: z.number().int().min(16).max(64).optional(),
    aad: base64.optional(),
    with_plaintext: z.boolean().optional(),
    op: op(OPERATIONS.keysDataKey),
  })
  .strict();
const signFields = { message: base64.optional(), digest: hexDigest.optional() };
const signRequest = z.object({ ...signFields, op: op(OPERATIONS.keysSign) }).strict();
const verifyRequest = z
  .object({ ...signFields, signature: hexString, version: version.optional(), op: op(OPERATIONS.keysVerify) })
  .strict();
const macRequest = z.object({ message: base64, op: op(OPERATIONS.keysMac) }).strict();
const verifyMacRequest = z
  .object({ message: base64, mac: hexString, version: version.optional(), op: op(OPERATIONS.keysVerifyMac) })
  .strict();
const decryptAsymmetricRequest = z
  .object({ ciphertext: base64, version, op: op(OPERATIONS.keysDecryptAsymmetric) })
  .strict();
const randomRequest = z.object({ bytes: z.number().int().min(1).max(1024), op: op(OPERATIONS.random) }).strict();

const VERSION_ACTIONS: Record<VersionAction, z.ZodType> = {
  enable: emptyRequest(OPERATIONS.keysEnable),
  disable: emptyRequest(OPERATIONS.keysDisable),
  destroy: emptyRequest(OPERATIONS.keysDestroy),
  restore: emptyRequest(OPERATIONS.keysRestore),
};

const bytesOf = (bytes: Uint8Array | undefined) => bytes ?? new Uint8Array();

function signInputOf(request: { message?: Uint8Array; digest?: string }): SignInput {
  if ((request.message === undefined) === (request.digest === undefined)) {
    throw badRequest("Invalid body: give exactly one of message and digest");
  }
  if (request.message !== undefined) return { message: request.message };
  return { digest: hexToBytes(request.digest!.replace(/^0x/, "")) };
}

export interface KeyRouteDeps {
  /** The node's named keys (503 while it does not serve). */
  keys: () => KeyApi;
}

export function keyRoutes({ keys }: KeyRouteDeps) {
  const app = (c: Context<KmsEnv>) => c.get("caller").appId;
  const body = <S extends z.ZodType>(c: Context<KmsEnv>, schema: S) => parseBody(schema, c.get("body"));

  const nameInPath = (c: Context<KmsEnv>) => c.req.param("name");
  return new Hono<KmsEnv>()
    .use("/keys/:name", proveMisses(OPERATIONS.keysLookup, nameInPath))
    .use("/keys/:name/*", proveMisses(OPERATIONS.keysLookup, nameInPath))
    .post("/keys", async (c) => {
      const r = body(c, createRequest);
      const key = await keyCall(() =>
        keys().create(app(c), {
          name: r.name,
          purpose: r.purpose,
          rotationPeriodDays: r.rotation_period_days,
          description: r.description,
          labels: r.labels,
        }),
      );
      return replyToApp(c, keyJson(key));
    })
    .get("/keys", async (c) => {
      const pageSize = pageSizeOf(c.req.query("page_size"));
      const after = decodePageToken(c.req.query("page_token"));
      const page = await keyCall(() => keys().list(app(c), pageSize, after));
      return replyToApp(c, {
        keys: page.items.map(keyJson),
        ...nextPageField(page.nextAfter),
      });
    })
    .get("/keys/:name", async (c) =>
      replyToApp(c, keyJson(await keyCall(() => keys().get(app(c), c.req.param("name"))))),
    )
    .patch("/keys/:name", async (c) => {
      const r = body(c, updateRequest);
      const key = await keyCall(() =>
        keys().update(app(c), c.req.param("name"), {
          rotationPeriodDays: r.rotation_period_days,
          description: r.description,
          labels: r.labels,
          primaryVersion: r.primary_version,
        }),
      );
      return replyToApp(c, keyJson(key));
    })
    .post("/keys/:name/rotate", async (c) => {
      body(c, rotateRequest);
      return replyToApp(c, keyJson(await keyCall(() => keys().rotate(app(c), c.req.param("name")))));
    })
    .get("/keys/:name/versions", async (c) => {
      const pageSize = pageSizeOf(c.req.query("page_size"));
      const token = decodePageToken(c.req.query("page_token"));
      const after = token === undefined ? undefined : versionNumber(token, "page_token");
      const page = await keyCall(() => keys().versions(app(c), c.req.param("name"), pageSize, after));
      return replyToApp(c, {
        versions: page.items.map(versionJson),
        ...nextPageField(page.nextAfter),
      });
    })
    .get("/keys/:name/versions/:version", async (c) => {
      const n = versionNumber(c.req.param("version"), "version")!;
      return replyToApp(c, versionJson(await keyCall(() => keys().version(app(c), c.req.param("name"), n))));
    })
    .post("/keys/:name/versions/:version/:action{enable|disable|destroy|restore}", async (c) => {
      const action = c.req.param("action") as VersionAction;
      body(c, VERSION_ACTIONS[action]);
      const n = versionNumber(c.req.param("version"), "version")!;
      const changed = await keyCall(() => keys().changeVersion(app(c), c.req.param("name"), n, action));
      return replyToApp(c, versionJson(changed));
    })
    .post("/keys/:name/encrypt", async (c) => {
      const r = body(c, encryptRequest);
      const sealed = await keyCall(() => keys().encrypt(app(c), c.req.param("name"), r.plaintext, bytesOf(r.aad)));
      return replyToApp(c, { ciphertext: sealed.ciphertext, version: sealed.version });
    })
    .post("/decrypt", async (c) => {
      const r = body(c, decryptRequest);
      const opened = await keyCall(() => keys().decrypt(app(c), r.ciphertext, bytesOf(r.aad)));
      return replyToApp(c, { plaintext: bytesToBase64(opened.plaintext), key: opened.key, version: opened.version });
    })
    .post("/reencrypt", async (c) => {
      const r = body(c, reencryptRequest);
      const sealed = await keyCall(() => keys().reencrypt(app(c), r.ciphertext, bytesOf(r.aad), r.key));
      return replyToApp(c, { ciphertext: sealed.ciphertext, key: sealed.key, version: sealed.version });
    })
    .post("/keys/:name/datakey", async (c) => {
      const r = body(c, dataKeyRequest);
      const made = await keyCall(() => keys().dataKey(app(c), c.req.param("name"), r.bytes, bytesOf(r.aad)));
      return replyToApp(c, {
        ciphertext: made.ciphertext,
        ...(r.with_plaintext === false ? {} : { plaintext: bytesToBase64(made.plaintext) }),
        version: made.version,
      });
    })
    .post("/keys/:name/sign", async (c) => {
      const input = signInputOf(body(c, signRequest));
      const signed = await keyCall(() => keys().sign(app(c), c.req.param("name"), input));
      return replyToApp(c, { signature: signed.signature, version: signed.version });
    })
    .post("/keys/:name/verify", async (c) => {
      const r = body(c, verifyRequest);
      const valid = await keyCall(() =>
        keys().verify(app(c), c.req.param("name"), signInputOf(r), r.signature, r.version),
      );
      return replyToApp(c, { valid });
    })
    .get("/keys/:name/public_key", async (c) => {
      const n = versionNumber(c.req.query("version"), "version");
      const info = await keyCall(() => keys().publicKey(app(c), c.req.param("name"), n));
      return replyToApp(c, {
        pem: info.pem,
        version: info.version,
        ...(info.address !== undefined ? { address: info.address } : {}),
      });
    })
    .post("/keys/:name/mac", async (c) => {
      const r = body(c, macRequest);
      const made = await keyCall(() => keys().mac(app(c), c.req.param("name"), r.message));
      return replyToApp(c, { mac: made.mac, version: made.version });
    })
    .post("/keys/:name/verify_mac", async (c) => {
      const r = body(c, verifyMacRequest);
      const valid = await keyCall(() =>
        keys().verifyMac(app(c), c.req.param("name"), r.message, r.mac.replace(/^0x/, ""), r.version),
      );
      return replyToApp(c, { valid });
    })
    .post("/keys/:name/decrypt_asymmetric", async (c) => {
      const r = body(c, decryptAsymmetricRequest);
      const plaintext = await keyCall(() =>
        keys().decryptAsymmetric(app(c), c.req.param("name"), r.version, r.ciphertext),
      );
      return replyToApp(c, { plaintext: bytesToBase64(plaintext) });
    })
    .post("/random", async (c) => {
      const r = body(c, randomRequest);
      return replyToApp(c, { random: bytesToBase64(await keyCall(() => keys().random(r.bytes))) });
    });
}
