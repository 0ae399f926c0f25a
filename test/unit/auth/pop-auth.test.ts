// POP_TIMEOUT_SECONDS sets both the timestamp window and the nonce lifetime: a signed request that
// was held back stays usable at most that long after its nonce was issued, even when it carries a
// timestamp in the future, and a lower setting shortens both.
import { describe, expect, it } from "vitest";
import { createPopAuth } from "../../../enclave/auth/pop-auth.js";
import type { PopKind } from "../../../enclave/auth/pop-verifier.js";
import { loadConfig } from "../../../enclave/config.js";
import { appAuthMessage, peerAuthMessage } from "../../../enclave/crypto/pop.js";
import { KmsError } from "../../../enclave/errors.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const node = new SimulatedTee({ seed: "pop-auth-node" });
const caller = new SimulatedTee({ seed: "pop-auth-caller" });
const T0 = 1_700_000_000_000;

function setup(windowSeconds: number) {
  let now = T0;
  const auth = createPopAuth({ windowSeconds, maxNoncesPerPool: 100, ownWallet: node.identity.wallet, now: () => now });
  const verify = async (kind: PopKind, nonce: string, tsSeconds: number) => {
    const message = (kind === "app" ? appAuthMessage : peerAuthMessage)(nonce, node.identity.wallet, tsSeconds);
    const headers = { signature: await caller.signMessage(message), nonce, timestamp: String(tsSeconds) };
    try {
      return auth.pop.verify(kind, headers).wallet;
    } catch (e) {
      if (e instanceof KmsError) return e.reason;
      throw e;
    }
  };
  return { ...auth, verify, advance: (ms: number) => (now += ms) };
}

describe("createPopAuth (POP_TIMEOUT_SECONDS)", () => {
  it.each(["app", "peer"] as const)(
    "a held-back %s request expires with its nonce, whatever its timestamp",
    async (kind) => {
      const { nonces, verify, advance } = setup(10);
      const future = T0 / 1000 + 10; // as far ahead as the window allows when signed
      const held = nonces.issue(kind);
      const prompt = nonces.issue(kind);
      advance(9_000);
      expect(await verify(kind, prompt, future)).toBe(caller.identity.wallet);
      advance(1_001);
      // The timestamp is now exactly current, but the nonce is older than the window.
      expect(await verify(kind, held, future)).toBe("pop_bad_nonce");
      expect(nonces.size(kind)).toBe(0);
    },
  );

  it("refuses timestamps further than the window from now", async () => {
    const { nonces, verify } = setup(10);
    expect(await verify("app", nonces.issue("app"), T0 / 1000 - 11)).toBe("pop_stale_timestamp");
    expect(await verify("app", nonces.issue("app"), T0 / 1000 + 11)).toBe("pop_stale_timestamp");
  });

  it("defaults to 120 s and may be set lower, down to 1 s", () => {
    const base = {
      SIMULATION_MODE: "true",
      CHAIN_RPC_URL: "http://127.0.0.1:8545",
      NOVA_APP_REGISTRY_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      KMS_REGISTRY_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      KMS_APP_ID: "1",
    };
    expect(loadConfig(base).POP_TIMEOUT_SECONDS).toBe(120);
    expect(loadConfig({ ...base, POP_TIMEOUT_SECONDS: "1" }).POP_TIMEOUT_SECONDS).toBe(1);
    expect(() => loadConfig({ ...base, POP_TIMEOUT_SECONDS: "0" })).toThrow(/POP_TIMEOUT_SECONDS/);
  });
});
