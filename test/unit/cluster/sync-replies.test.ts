// The reply schemas (sync-messages.ts `syncReplies`) describe what SyncHandler really answers: every
// message type is sent to a real handler over a real store and its reply must parse, unchanged, with
// the schema PeerClient.call applies to it.
import { describe, expect, it } from "vitest";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import {
  syncMessage,
  syncReplies,
  type SyncMessageType,
  type SyncReply,
} from "../../../enclave/cluster/sync-messages.js";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import { generateP384KeyPair, p384SpkiFromSec1 } from "../../../enclave/crypto/p384.js";
import { openSealedMasterSecret } from "../../../enclave/crypto/sealed-transfer.js";
import { createLogger } from "../../../enclave/log.js";
import { ManualClock, bytes, makeStore, nodeId } from "../store/helpers.js";

const SECRET = new Uint8Array(32).fill(3);
const sender = nodeId(1);
const caller = { wallet: sender, instanceId: 1n, appId: 1n, versionId: 1n, versionStatus: 0 } as RegisteredCaller;

function setup() {
  const clock = new ManualClock(Date.now());
  const store = makeStore(0, clock);
  const other = makeStore(1, clock);
  store.put(5n, "k", bytes("v"));
  other.put(5n, "k2", bytes("w"));
  const handler = new SyncHandler({
    store: () => store,
    masterSecret: () => SECRET,
    storeRecovered: () => true,
    log: createLogger("silent"),
  });
  return { store, other, handler };
}

async function replyTo<T extends SyncMessageType>(handler: SyncHandler, inner: { type: T } & Record<string, unknown>) {
  const reply = await handler.handle(syncMessage.parse({ ...inner, sender_wallet: sender }), caller);
  const parsed = syncReplies[inner.type].safeParse(reply);
  if (!parsed.success) throw new Error(`reply to ${inner.type} does not fit: ${JSON.stringify(parsed.error.issues)}`);
  // Nothing the handler sends is dropped by the schema.
  expect(parsed.data).toEqual(reply);
  return parsed.data as SyncReply<T>;
}

describe("sync reply schemas", () => {
  it("fit every reply SyncHandler gives", async () => {
    const { store, other, handler } = setup();
    const records = other.changesSince(0).records;
    await replyTo(handler, { type: "delta", epoch: other.epoch, from: 0, next: 1, records });
    await replyTo(handler, { type: "repair", records });
    const page = await replyTo(handler, { type: "snapshot_request", cursor: 0 });
    expect(page).toMatchObject({ type: "snapshot_page", more: false });
    const roots = await replyTo(handler, { type: "roots", roots: {} });
    expect(roots).toEqual({ type: "roots_reply", differing: ["5"] });
    const digest = await replyTo(handler, { type: "digest", digests: [other.digest(5n)] });
    expect(digest).toMatchObject({ type: "digest_reply", epoch: store.epoch, truncated: false });

    const key = generateP384KeyPair();
    const ecdh_pubkey = bytesToHex(p384SpkiFromSec1(key.publicKey));
    const secretReply = await replyTo(handler, { type: "master_secret_request", ecdh_pubkey });
    expect(openSealedMasterSecret({ requesterPrivateKey: key.privateKey, sealed: secretReply.sealed })).toEqual(SECRET);
  });

  it("refuse replies of another shape", () => {
    expect(syncReplies.delta.safeParse({ type: "delta_ack", counts: {} }).success).toBe(false);
    expect(syncReplies.roots.safeParse({ type: "roots_reply", differing: ["x"] }).success).toBe(false);
    expect(syncReplies.snapshot_request.safeParse({ type: "digest_reply", records: [] }).success).toBe(false);
    expect(syncReplies.master_secret_request.safeParse({ status: "error", sealed: {} }).success).toBe(false);
  });
});
