// PopVerifier (PROTOCOL.md §3): every failure is a 403 with its reason, checked in the order
// headers → timestamp → nonce (consumed) → signature → wallet header.
import { describe, expect, it } from "vitest";
import { NoncePools } from "../../../enclave/auth/nonce-pools.js";
import { NonceStore } from "../../../enclave/auth/nonce-store.js";
import { PopVerifier, readPopHeaders, type PopHeaders, type PopKind } from "../../../enclave/auth/pop-verifier.js";
import { appAuthMessage, peerAuthMessage } from "../../../enclave/crypto/pop.js";
import { checksumWallet } from "../../../enclave/crypto/secp256k1.js";
import { KmsError } from "../../../enclave/errors.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const NOW = 1_700_000_000;
const node = new SimulatedTee({ seed: "pop-verifier-node" });
const caller = new SimulatedTee({ seed: "pop-verifier-caller" });
const other = new SimulatedTee({ seed: "pop-verifier-other" });

function setup() {
  const nonces = new NonceStore({ ttlMs: 120_000, maxEntries: 100 });
  const ownWallet = node.identity.wallet;
  const verifier = new PopVerifier({ nonces, ownWallet, windowSeconds: 120, nowSeconds: () => NOW });
  return { nonces, verifier };
}

async function signed(kind: PopKind, nonce: string): Promise<PopHeaders> {
  const ts = String(NOW);
  const build = kind === "app" ? appAuthMessage : peerAuthMessage;
  const signature = await caller.signMessage(build(nonce, node.identity.wallet, ts));
  return { signature, nonce, timestamp: ts, wallet: caller.identity.wallet };
}

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(KmsError);
    expect((e as KmsError).status).toBe(403);
    return (e as KmsError).reason;
  }
  throw new Error("expected a 403");
}

describe("PopVerifier", () => {
  it("accepts both variants, each only over its own signed string", async () => {
    const { nonces, verifier } = setup();
    for (const kind of ["app", "peer"] as const) {
      const headers = await signed(kind, nonces.issue());
      expect(verifier.verify(kind, headers)).toEqual({ wallet: caller.identity.wallet, signature: headers.signature });
    }
    // Over the other variant's string the signature recovers to a stranger, not to the caller.
    const appSigned = await signed("app", nonces.issue());
    expect(reasonOf(() => verifier.verify("peer", appSigned))).toBe("pop_wallet_mismatch");
  });

  it("reads the variant's headers", () => {
    const seen: string[] = [];
    readPopHeaders("peer", (name) => {
      seen.push(name);
      return undefined;
    });
    expect(seen).toEqual(["x-kms-signature", "x-kms-nonce", "x-kms-timestamp", "x-kms-wallet"]);
  });

  it("refuses missing headers and a stale timestamp before touching the nonce", async () => {
    const { nonces, verifier } = setup();
    const nonce = nonces.issue();
    const headers = await signed("app", nonce);
    expect(reasonOf(() => verifier.verify("app", { ...headers, signature: undefined }))).toBe("pop_missing_headers");
    const stale = { ...headers, timestamp: String(NOW - 121) };
    expect(reasonOf(() => verifier.verify("app", stale))).toBe("pop_stale_timestamp");
    expect(verifier.verify("app", headers).wallet).toBe(caller.identity.wallet);
  });

  it("consumes the nonce even when the signature is bad", async () => {
    const { nonces, verifier } = setup();
    const headers = await signed("app", nonces.issue());
    expect(reasonOf(() => verifier.verify("app", { ...headers, signature: "0x1234" }))).toBe("pop_bad_signature");
    expect(reasonOf(() => verifier.verify("app", headers))).toBe("pop_bad_nonce");
  });

  it("checks the signature before the wallet header", async () => {
    const { nonces, verifier } = setup();
    const malformedSig = { ...(await signed("app", nonces.issue())), signature: "0x1234", wallet: "not-a-wallet" };
    expect(reasonOf(() => verifier.verify("app", malformedSig))).toBe("pop_bad_signature");
    const malformedWallet = { ...(await signed("app", nonces.issue())), wallet: "not-a-wallet" };
    expect(reasonOf(() => verifier.verify("app", malformedWallet))).toBe("pop_wallet_mismatch");
    const otherWallet = { ...(await signed("app", nonces.issue())), wallet: other.identity.wallet };
    expect(reasonOf(() => verifier.verify("app", otherWallet))).toBe("pop_wallet_mismatch");
    // The header may be EIP-55 checksummed; it names the same wallet.
    const checksummed = { ...(await signed("app", nonces.issue())), wallet: checksumWallet(caller.identity.wallet) };
    expect(verifier.verify("app", checksummed).wallet).toBe(caller.identity.wallet);
  });

  it("redeems a nonce only with the verifier of the pool it was issued from", async () => {
    const pools = new NoncePools({ ttlMs: 120_000, maxEntries: 100 });
    const verifier = new PopVerifier({
      nonces: pools,
      ownWallet: node.identity.wallet,
      windowSeconds: 120,
      nowSeconds: () => NOW,
    });
    const appNonce = pools.issue("app");
    const peerNonce = pools.issue("peer");
    expect(
      reasonOf(() =>
        verifier.verify("peer", { wallet: undefined, nonce: appNonce, signature: "0x", timestamp: String(NOW) }),
      ),
    ).toBe("pop_bad_nonce");
    // The refused attempt did not spend the app nonce: its own channel still redeems it.
    expect(verifier.verify("app", await signed("app", appNonce)).wallet).toBe(caller.identity.wallet);
    expect(
      reasonOf(() =>
        verifier.verify("app", { wallet: undefined, nonce: peerNonce, signature: "0x", timestamp: String(NOW) }),
      ),
    ).toBe("pop_bad_nonce");
    expect(verifier.verify("peer", await signed("peer", peerNonce)).wallet).toBe(caller.identity.wallet);
    expect(pools.size("app") + pools.size("peer")).toBe(0);
  });
});
