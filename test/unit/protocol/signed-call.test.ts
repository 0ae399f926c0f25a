// The caller's half of the signed channel (enclave/protocol/signed-call.ts), both variants, against
// an in-process recipient (hono `app.request`, no sockets) that verifies our PoP with the node's own
// PopVerifier and answers honestly — or misbehaves in exactly one way per test.
import { Hono } from "hono";
import { beforeEach, describe, expect, it } from "vitest";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier, readPopHeaders } from "../../../enclave/auth/pop-verifier.js";
import { CAPSULE_LABEL, ENCLAVER_LABEL, parseEnvelope, type EnvelopeLabel } from "../../../enclave/crypto/envelope.js";
import { appResponseMessage, peerResponseMessage } from "../../../enclave/crypto/pop.js";
import { APP_CHANNEL, PEER_CHANNEL, type ChannelVariant } from "../../../enclave/protocol/channel.js";
import { sealJson } from "../../../enclave/protocol/identity.js";
import { bindToRequest, takeRequestNonce, type NonceVerdict } from "../../../enclave/protocol/reply-binding.js";
import {
  ChannelReplyError,
  ChannelStatusError,
  signedCall,
  type CallRequest,
  type SendRequest,
  type SignedCallOptions,
} from "../../../enclave/protocol/signed-call.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const caller = new SimulatedTee({ seed: "signed-call-caller" });
const recipientTee = new SimulatedTee({ seed: "signed-call-recipient" });
const impostor = new SimulatedTee({ seed: "signed-call-impostor" });
const recipient = { wallet: recipientTee.identity.wallet, teePubkey: recipientTee.identity.teePubkey };

interface Misbehaviour {
  /** Seal without the request echo (a recipient from before it). */
  omitEcho?: boolean;
  /** Echo this instead of our request signature (the answer to another request). */
  echo?: string;
  signWith?: SimulatedTee;
  sealWith?: SimulatedTee;
  omitSignature?: boolean;
  replyLabel?: EnvelopeLabel;
  callStatus?: number;
  nonceBody?: unknown;
}

interface Seen {
  headers: Record<string, string>;
  body: unknown;
  label: EnvelopeLabel | undefined;
  nonceBinding: NonceVerdict;
}

/** A recipient of `channel` that echoes the request's inner JSON back, bound to the request, sealed and signed. */
function startRecipient(channel: ChannelVariant, misbehave: Misbehaviour) {
  const nonces = new NonceStore({ ttlMs: 60_000, maxEntries: 100 });
  const pop = new PopVerifier({ nonces, ownWallet: recipient.wallet, windowSeconds: 120 });
  const responseMessage = channel.kind === "app" ? appResponseMessage : peerResponseMessage;
  const seen: Seen[] = [];
  const app = new Hono();
  app.get("/nonce", (c) => c.json(misbehave.nonceBody ?? { nonce: nonces.issue() }));
  app.all("/call", async (c) => {
    if (misbehave.callStatus) return c.json({ code: "told_to_fail", message: "no" }, misbehave.callStatus as 500);
    const verified = pop.verify(
      channel.kind,
      readPopHeaders(channel.kind, (name) => c.req.header(name)),
    );
    let body: unknown;
    let label: EnvelopeLabel | undefined;
    if (c.req.method !== "GET") {
      const opened = await recipientTee.decryptFrom(parseEnvelope(JSON.parse(await c.req.text())));
      body = JSON.parse(new TextDecoder().decode(opened.plaintext));
      label = opened.label;
    }
    // As the node does: the body's request_nonce is checked against the PoP nonce and removed.
    const nonceBinding = takeRequestNonce(body, c.req.header(channel.popHeaders.nonce));
    seen.push({ headers: Object.fromEntries(c.req.raw.headers), body, label, nonceBinding });
    const sealer = misbehave.sealWith ?? recipientTee;
    const replyLabel = misbehave.replyLabel ?? label;
    const content = { echo: body ?? null, method: c.req.method };
    const payload = misbehave.omitEcho ? content : bindToRequest(content, misbehave.echo ?? verified.signature);
    const envelope = await sealJson(sealer, caller.identity.teePubkey, payload, replyLabel);
    if (!misbehave.omitSignature) {
      const signer = misbehave.signWith ?? recipientTee;
      const signature = await signer.signMessage(responseMessage(verified.signature, recipient.wallet));
      c.header(channel.responseSignatureHeader, signature);
    }
    return c.json(envelope);
  });
  /** The PoP signature of every call sent. */
  const sent: string[] = [];
  const send: SendRequest = async (wire) => {
    const signature = wire.headers?.[channel.popHeaders.signature];
    if (signature) sent.push(signature);
    const init = { method: wire.method, headers: wire.headers ?? {}, body: wire.body ?? null };
    const res = await app.request(wire.path, init);
    return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text: await res.text() };
  };
  return { send, seen, sent };
}

function options(channel: ChannelVariant, send: SendRequest, label?: EnvelopeLabel): SignedCallOptions {
  return { channel, identity: caller, ownWallet: caller.identity.wallet, recipient, send, label };
}

async function rejection(promise: Promise<unknown>): Promise<ChannelReplyError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChannelReplyError);
  return err as ChannelReplyError;
}

const post: CallRequest = { method: "POST", path: "/call", body: { b: 2, a: [1] } };

describe.each([APP_CHANNEL, PEER_CHANNEL])("signedCall ($kind variant)", (channel) => {
  let misbehave: Misbehaviour;
  let recipientSide: ReturnType<typeof startRecipient>;
  beforeEach(() => {
    misbehave = {};
    recipientSide = startRecipient(channel, misbehave);
  });
  const call = (request: CallRequest, label?: EnvelopeLabel) =>
    signedCall(options(channel, recipientSide.send, label), request);

  it("sends the PoP headers and a sealed body, and opens the verified reply", async () => {
    expect(await call(post, ENCLAVER_LABEL)).toEqual({ echo: { a: [1], b: 2 }, method: "POST" });
    const seen = recipientSide.seen[0]!;
    expect(seen.label).toBe(ENCLAVER_LABEL);
    // Only app bodies carry the nonce (a peer's PoP and body go to /sync, which binds with the HMAC).
    expect(seen.nonceBinding).toBe(channel.kind === "app" ? "bound" : "absent");
    expect(seen.headers[channel.popHeaders.wallet]).toBe(caller.identity.wallet);
    expect(seen.headers["content-type"]).toBe("application/json");
    // A GET carries no body; a body-less POST carries `{}`.
    expect(await call({ method: "GET", path: "/call" })).toEqual({ echo: null, method: "GET" });
    expect(await call({ method: "DELETE", path: "/call" })).toEqual({ echo: {}, method: "DELETE" });
  });

  it("rejects a reply signed by another wallet", async () => {
    misbehave.signWith = impostor;
    const err = await rejection(call(post));
    expect(err.reason).toBe("wrong_signer");
    expect(err.message).toMatch(/on-chain wallet/);
  });

  it("rejects a reply without the response signature", async () => {
    misbehave.omitSignature = true;
    const err = await rejection(call(post));
    expect(err.reason).toBe("unsigned");
    expect(err.message).toBe(`missing ${channel.responseSignatureHeader}`);
  });

  it("rejects a reply sealed by a key other than the recipient's on-chain one", async () => {
    misbehave.sealWith = impostor;
    expect((await rejection(call(post))).reason).toBe("wrong_sender");
  });

  it("rejects a reply to a body under another label; a GET's reply may use any", async () => {
    misbehave.replyLabel = ENCLAVER_LABEL;
    const err = await rejection(call(post, CAPSULE_LABEL));
    expect(err.reason).toBe("wrong_label");
    expect(err.message).toBe(`reply sealed under ${ENCLAVER_LABEL}, request under ${CAPSULE_LABEL}`);
    expect(await call({ method: "GET", path: "/call" }, CAPSULE_LABEL)).toEqual({ echo: null, method: "GET" });
  });

  it("rejects a reply that echoes another request's signature (a swapped body)", async () => {
    misbehave.echo = `0x${"33".repeat(65)}`;
    const err = await rejection(call(post));
    expect(err.reason).toBe("unbound");
    expect(err.message).toBe("sealed reply answers another request (request_signature)");
  });

  it(`${channel.kind === "app" ? "rejects" : "accepts"} a reply without the echo`, async () => {
    misbehave.omitEcho = true;
    if (channel.requestEcho === "required") {
      const err = await rejection(call(post));
      expect(err.reason).toBe("unbound");
      expect(err.message).toBe("sealed reply does not name the request it answers (request_signature)");
    } else {
      // A peer from before the echo still answers a rolling upgrade.
      expect(await call(post)).toEqual({ echo: { a: [1], b: 2 }, method: "POST" });
    }
  });

  it("reports non-2xx answers and unusable nonces", async () => {
    misbehave.callStatus = 503;
    const err = await call(post).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelStatusError);
    expect(err).toMatchObject({ step: "call", status: 503 });
    // The call's PoP signature rides along, for callers that check a signed error (a proven 404).
    expect((err as ChannelStatusError).requestSignature).toBe(recipientSide.sent.at(-1));
    expect((err as ChannelStatusError).text).toContain("told_to_fail");
    misbehave.nonceBody = { nonce: "a:b" };
    expect((await rejection(call(post))).reason).toBe("bad_nonce");
  });
});
