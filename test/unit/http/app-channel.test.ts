// The app channel and its reply, in process through hono's app.request(): PoP, registry verdict,
// envelope checks and the signed, sealed reply — each refusal with the status the protocol names.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier } from "../../../enclave/auth/pop-verifier.js";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { utf8 } from "../../../enclave/crypto/bytes.js";
import { canonicalJson } from "../../../enclave/crypto/canonical-json.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL, parseEnvelope, type EnvelopeLabel } from "../../../enclave/crypto/envelope.js";
import { appAuthMessage, verifyAppResponse } from "../../../enclave/crypto/pop.js";
import { forbidden, KmsError } from "../../../enclave/errors.js";
import { replyToApp } from "../../../enclave/http/app-reply.js";
import type { KmsEnv, RootEnv } from "../../../enclave/http/context.js";
import { appChannel } from "../../../enclave/http/middleware/app-channel.js";
import { handleError } from "../../../enclave/http/middleware/errors.js";
import { ServerChannel } from "../../../enclave/http/server-channel.js";
import { createLogger } from "../../../enclave/log.js";
import { ServingKeys } from "../../../enclave/serving-keys.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const node = new SimulatedTee({ seed: "channel-node" });
const app = new SimulatedTee({ seed: "channel-app" });
const stranger = new SimulatedTee({ seed: "channel-stranger" });
const keys = new ServingKeys(new Uint8Array(32).fill(7));

const callerOf = (tee: SimulatedTee): RegisteredCaller => ({
  wallet: tee.identity.wallet,
  instanceId: 1n,
  appId: 42n,
  versionId: 1n,
  versionStatus: 0,
  instanceUrl: "https://app",
  teePublicKey: tee.identity.teePubkey,
});

function server(options: { serving?: boolean; inEnclave?: boolean } = {}) {
  const nonces = new NonceStore({ ttlMs: 60_000, maxEntries: 1_000 });
  const pop = new PopVerifier({ nonces, ownWallet: node.identity.wallet, windowSeconds: 120 });
  const root = new Hono<RootEnv>();
  root.onError(handleError(createLogger("silent")));
  const kms = new Hono<KmsEnv>();
  kms.use(
    "*",
    appChannel({
      channel: new ServerChannel(node, node.identity.wallet),
      pop,
      authorizer: {
        authorize: async (wallet) => {
          if (wallet === app.identity.wallet) return callerOf(app);
          throw forbidden("Instance not found", "instance_not_found");
        },
      },
      requireKeys: () => {
        if (options.serving === false) throw new KmsError("service_unavailable", "Service not ready: testing");
        return keys;
      },
      inEnclave: options.inEnclave ?? false,
    }),
  );
  kms.post("/echo", (c) => replyToApp(c, { got: c.get("body"), app_id: c.get("caller").appId.toString() }));
  kms.get("/echo", (c) => replyToApp(c, { got: null }));
  root.route("/kms", kms);
  return { root, nonces };
}

async function call(
  s: ReturnType<typeof server>,
  options: {
    method?: "GET" | "POST";
    body?: unknown;
    rawBody?: string;
    signer?: SimulatedTee;
    sealer?: SimulatedTee;
    label?: EnvelopeLabel;
    headers?: Record<string, string>;
  } = {},
) {
  const nonce = s.nonces.issue();
  const ts = String(Math.floor(Date.now() / 1000));
  const signer = options.signer ?? app;
  const signature = await signer.signMessage(appAuthMessage(nonce, node.identity.wallet, ts));
  const headers: Record<string, string> = {
    "x-app-signature": signature,
    "x-app-nonce": nonce,
    "x-app-timestamp": ts,
    ...options.headers,
  };
  let body = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    const sealed = await (options.sealer ?? app).encryptTo(
      node.identity.teePubkey,
      utf8(canonicalJson(options.body)),
      options.label,
    );
    body = JSON.stringify(sealed);
  }
  const res = await s.root.request("/kms/echo", { method: options.method ?? "POST", headers, body });
  return { res, signature, text: await res.text() };
}

describe("app channel (in process)", () => {
  it("opens the envelope, and replies sealed to the caller's key under its label, signed over its PoP", async () => {
    const s = server();
    for (const label of [CAPSULE_LABEL, ENCLAVER_LABEL] as const) {
      const { res, signature, text } = await call(s, { body: { hello: "world" }, label });
      expect(res.status).toBe(200);
      const responseSignature = res.headers.get("x-kms-response-signature")!;
      expect(verifyAppResponse({ appSignature: signature, nodeWallet: node.identity.wallet, responseSignature })).toBe(
        node.identity.wallet,
      );
      const opened = await app.decryptFrom(parseEnvelope(JSON.parse(text)));
      expect(opened.label).toBe(label);
      // The sealed JSON names the request it answers: the PoP signature, exactly as sent.
      expect(JSON.parse(new TextDecoder().decode(opened.plaintext))).toEqual({
        got: { hello: "world" },
        app_id: "42",
        request_signature: signature,
      });
      // A GET carries no body: it is answered under the label this caller used last.
      const get = await call(s, { method: "GET" });
      expect((await app.decryptFrom(parseEnvelope(JSON.parse(get.text)))).label).toBe(label);
    }
  });

  it.each([
    ["no PoP headers and no dev wallet", { headers: {}, strip: true }, 403, /Missing proof-of-possession/],
    ["a plaintext body", { rawBody: JSON.stringify({ hello: "world" }) }, 400, /^Request must be E2E encrypted/],
    ["an envelope from another key", { body: { a: 1 }, sealer: stranger }, 403, /sender_tee_pubkey does not match/],
    ["an unregistered signer", { body: { a: 1 }, signer: stranger }, 403, /Instance not found/],
    ["a body that is not JSON", { rawBody: "{not json" }, 400, /E2E encrypted/],
  ] as const)("refuses %s", async (_name, options, status, message) => {
    const s = server();
    let res: Response;
    let text: string;
    if ("strip" in options) {
      res = await s.root.request("/kms/echo", { method: "POST", body: "{}" });
      text = await res.text();
    } else {
      ({ res, text } = await call(s, options as Parameters<typeof call>[1]));
    }
    expect(res.status).toBe(status);
    expect((JSON.parse(text) as { message: string }).message).toMatch(message);
  });

  it("answers 503 with the reason while the node does not serve, before looking at the caller", async () => {
    const { res, text } = await call(server({ serving: false }), { body: { a: 1 } });
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toEqual({ code: "service_unavailable", message: "Service not ready: testing" });
  });

  it("takes x-tee-wallet only outside an enclave", async () => {
    for (const inEnclave of [false, true]) {
      const s = server({ inEnclave });
      const res = await s.root.request("/kms/echo", {
        method: "GET",
        headers: { "x-tee-wallet": app.identity.wallet },
      });
      expect(res.status).toBe(inEnclave ? 403 : 200);
      // No PoP, nothing to sign over or echo: the reply carries no response signature, no echo.
      if (!inEnclave) {
        expect(res.headers.get("x-kms-response-signature")).toBeNull();
        const opened = await app.decryptFrom(parseEnvelope(await res.json()));
        expect(JSON.parse(new TextDecoder().decode(opened.plaintext))).toEqual({ got: null });
      }
    }
  });
});
