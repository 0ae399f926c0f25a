// What SyncHandler does with authenticated messages (the transport checks are routes/sync.ts's):
// master_secret_request is served sealed, to ENROLLED members only, and rate-limited per wallet.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { VersionStatus } from "../../../enclave/chain/types.js";
import { DepartedStores } from "../../../enclave/cluster/departed-stores.js";
import { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import type { SyncMessage } from "../../../enclave/cluster/sync-messages.js";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import { generateP384KeyPair, p384SpkiFromSec1 } from "../../../enclave/crypto/p384.js";
import { openSealedMasterSecret } from "../../../enclave/crypto/sealed-transfer.js";
import { KmsError } from "../../../enclave/errors.js";
import { createLogger } from "../../../enclave/log.js";
import { ManualClock, bytes, makeStore, nodeId } from "../store/helpers.js";

const SECRET = new Uint8Array(32).fill(9);

function caller(i: number, versionStatus: number = VersionStatus.ENROLLED): RegisteredCaller {
  return {
    wallet: nodeId(i),
    instanceId: BigInt(i),
    appId: 1n,
    versionId: 1n,
    versionStatus,
    instanceUrl: "",
    teePublicKey: new Uint8Array(97),
  };
}

function secretRequest(): { message: SyncMessage; privateKey: Uint8Array } {
  const key = generateP384KeyPair();
  return {
    privateKey: key.privateKey,
    message: {
      type: "master_secret_request",
      sender_wallet: "",
      ecdh_pubkey: bytesToHex(p384SpkiFromSec1(key.publicKey)),
    },
  };
}

function handler(perMinute: number) {
  return new SyncHandler({
    store: () => undefined,
    masterSecret: () => SECRET,
    storeRecovered: () => true,
    log: createLogger("silent"),
    secretRequestsPerMinute: perMinute,
  });
}

/** The KmsError code a call fails with, or "ok". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (e) {
    if (e instanceof KmsError) return e.code;
    throw e;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("master_secret_request", () => {
  it("answers with the secret sealed to the request's key", async () => {
    const { message, privateKey } = secretRequest();
    const reply = (await handler(10).handle(message, caller(1))) as { status: string; sealed: never };
    expect(reply.status).toBe("ok");
    expect(openSealedMasterSecret({ requesterPrivateKey: privateKey, sealed: reply.sealed })).toEqual(SECRET);
  });

  it("answers at most the configured number per wallet per minute, then again after the window", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_700_000_000_000);
    const h = handler(3);
    const results: string[] = [];
    for (let i = 0; i < 5; i++) results.push(await outcome(h.handle(secretRequest().message, caller(1))));
    expect(results).toEqual(["ok", "ok", "ok", "rate_limited", "rate_limited"]);
    // Another member has its own allowance.
    expect(await outcome(h.handle(secretRequest().message, caller(2)))).toBe("ok");
    vi.setSystemTime(1_700_000_000_000 + 59_999);
    expect(await outcome(h.handle(secretRequest().message, caller(1)))).toBe("rate_limited");
    vi.setSystemTime(1_700_000_000_000 + 60_000);
    expect(await outcome(h.handle(secretRequest().message, caller(1)))).toBe("ok");
  });

  it("refuses members whose version is not ENROLLED, before counting them", async () => {
    const h = handler(1);
    expect(await outcome(h.handle(secretRequest().message, caller(1, VersionStatus.DEPRECATED)))).toBe("forbidden");
    expect(await outcome(h.handle(secretRequest().message, caller(1)))).toBe("ok");
  });
});

describe("a store its member had when it left the membership", () => {
  function setup() {
    const store = makeStore(0, new ManualClock());
    const departed = new DepartedStores();
    departed.saw(nodeId(1), "old-epoch");
    departed.membership([]);
    departed.collected();
    const flags = { recovered: true };
    const h = new SyncHandler({
      store: () => store,
      masterSecret: () => undefined,
      storeRecovered: () => flags.recovered,
      departed,
      log: createLogger("silent"),
    });
    const writer = makeStore(1, new ManualClock());
    writer.put(5n, "k", bytes("v"));
    return { store, h, flags, records: writer.changesSince(0).records };
  }
  const from = (epoch: string) => ({ sender_wallet: nodeId(1), epoch });

  it("merges nothing from it and answers stale_store to every message that carries its epoch", async () => {
    const { store, h, records } = setup();
    const zero = { inserted: 0, replaced: 0, concurrent: 0, ignored: 0, rejected: 0 };
    const replies = [
      await h.handle({ type: "delta", ...from("old-epoch"), from: 0, next: 1, records: records as never }, caller(1)),
      await h.handle({ type: "repair", ...from("old-epoch"), records: records as never }, caller(1)),
      await h.handle({ type: "roots", ...from("old-epoch"), roots: { "5": "x" } }, caller(1)),
      await h.handle({ type: "digest", ...from("old-epoch"), digests: [store.digest(5n)] }, caller(1)),
      await h.handle({ type: "snapshot_request", ...from("old-epoch"), cursor: 0 }, caller(1)),
    ];
    expect(replies).toEqual([
      { type: "delta_ack", epoch: store.epoch, counts: zero, stale_store: true },
      { type: "repair_ack", epoch: store.epoch, counts: zero, stale_store: true },
      { type: "roots_reply", differing: [], stale_store: true },
      { type: "digest_reply", epoch: store.epoch, records: [], differing: [], truncated: false, stale_store: true },
      { type: "snapshot_page", epoch: store.epoch, records: [], next: 0, head: 0, more: false, stale_store: true },
    ]);
    expect(store.holdsKey(5n, "k")).toBe(false);
    // The member's rebuilt store (a new epoch) is welcome.
    const reply = await h.handle(
      { type: "delta", ...from("new-epoch"), from: 0, next: 1, records: records as never },
      caller(1),
    );
    expect(reply).toMatchObject({ type: "delta_ack", counts: { inserted: 1 } });
    expect(reply).not.toHaveProperty("stale_store");
  });

  it("does not tell it to rebuild while this node's own store is recovering", async () => {
    const { h, flags, records } = setup();
    flags.recovered = false;
    expect(
      await outcome(
        h.handle({ type: "delta", ...from("old-epoch"), from: 0, next: 1, records: records as never }, caller(1)),
      ),
    ).toBe("service_unavailable");
  });
});
