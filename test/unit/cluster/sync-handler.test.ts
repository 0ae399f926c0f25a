// What SyncHandler does with authenticated messages (the transport checks are routes/sync.ts's):
// master_secret_request is served sealed, to ENROLLED members only, and rate-limited per wallet.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RegisteredCaller } from "../../../enclave/auth/registry-rules.js";
import { VersionStatus } from "../../../enclave/chain/types.js";
import { SyncHandler } from "../../../enclave/cluster/sync-handler.js";
import type { SyncMessage } from "../../../enclave/cluster/sync-messages.js";
import { bytesToHex } from "../../../enclave/crypto/bytes.js";
import { generateP384KeyPair, p384SpkiFromSec1 } from "../../../enclave/crypto/p384.js";
import { openSealedMasterSecret } from "../../../enclave/crypto/sealed-transfer.js";
import { KmsError } from "../../../enclave/errors.js";
import { createLogger } from "../../../enclave/log.js";
import { nodeId } from "../store/helpers.js";

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
