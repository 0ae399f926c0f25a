import { describe, expect, it } from "vitest";
import { RegistryAuthorizer, type RegistryView } from "../../../enclave/auth/registry-authorizer.js";
import {
  AppStatus,
  InstanceStatus,
  VersionStatus,
  type AppRecord,
  type InstanceRecord,
  type VersionRecord,
} from "../../../enclave/chain/types.js";
import { KmsError } from "../../../enclave/errors.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";

const tee = new SimulatedTee({ seed: "authorizer-app" });
const WALLET = tee.identity.wallet;

/** An in-memory registry whose answers a test can change, counting chain reads. */
function registry() {
  const state = {
    instance: {
      id: 3n,
      appId: 9n,
      versionId: 1n,
      operator: WALLET,
      instanceUrl: "https://app",
      teePubkey: tee.identity.teePubkeySpki,
      teeWallet: WALLET,
      zkVerified: true,
      status: InstanceStatus.ACTIVE,
      registeredAt: 1n,
    } as InstanceRecord,
    app: { id: 9n, status: AppStatus.ACTIVE } as AppRecord,
    version: { id: 1n, status: VersionStatus.ENROLLED } as VersionRecord,
    failing: false,
    reads: 0,
    gate: undefined as Promise<void> | undefined,
  };
  const view: RegistryView = {
    async getInstanceByWallet(wallet) {
      state.reads++;
      await state.gate;
      if (state.failing) throw new Error("rpc down");
      // Any other wallet is unknown to the registry: the zero record.
      return wallet === WALLET ? state.instance : { ...state.instance, id: 0n };
    },
    async getApp() {
      return state.app;
    },
    async getVersion() {
      return state.version;
    },
  };
  return { state, view };
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("RegistryAuthorizer", () => {
  it("authorizes a registered caller and caches the answer for at most ttlMs", async () => {
    const { state, view } = registry();
    const time = clock();
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 15_000, now: time.now });
    const caller = await auth.authorize(WALLET.toUpperCase().replace("0X", "0x"));
    expect(caller).toMatchObject({ appId: 9n, instanceId: 3n, wallet: WALLET });
    await auth.authorize(WALLET);
    expect(state.reads).toBe(1);
    // Revoked on chain: still allowed from cache until the TTL passes, then refused.
    state.version = { ...state.version, status: VersionStatus.REVOKED };
    time.advance(14_999);
    await auth.authorize(WALLET);
    time.advance(2);
    await expect(auth.authorize(WALLET)).rejects.toMatchObject({
      status: 403,
      message: "Version revoked",
      reason: "version_revoked",
    });
  });

  it("caches a refusal for at most 5 s, so a newly registered caller gets in soon", async () => {
    const { state, view } = registry();
    const time = clock();
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 60_000, now: time.now });
    state.instance = { ...state.instance, zkVerified: false };
    await expect(auth.authorize(WALLET)).rejects.toMatchObject({ message: "Instance not zkVerified" });
    state.instance = { ...state.instance, zkVerified: true };
    time.advance(4_000);
    await expect(auth.authorize(WALLET)).rejects.toThrow(KmsError);
    time.advance(1_001);
    await expect(auth.authorize(WALLET)).resolves.toMatchObject({ appId: 9n });
  });

  it("answers 503 on a registry failure and caches nothing", async () => {
    const { state, view } = registry();
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 15_000 });
    state.failing = true;
    await expect(auth.authorize(WALLET)).rejects.toMatchObject({ status: 503, code: "service_unavailable" });
    state.failing = false;
    await expect(auth.authorize(WALLET)).resolves.toMatchObject({ appId: 9n });
    expect(state.reads).toBe(2);
  });

  it("shares one chain read among concurrent lookups of a wallet", async () => {
    const { state, view } = registry();
    let open: () => void = () => {};
    state.gate = new Promise<void>((r) => (open = r));
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 15_000 });
    const pending = Array.from({ length: 10 }, () => auth.authorize(WALLET));
    open();
    await Promise.all(pending);
    expect(state.reads).toBe(1);
  });

  it("keeps refusals in a cache of their own: unknown signers cannot push registered callers out", async () => {
    const { state, view } = registry();
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 15_000, maxEntries: 4, maxNegativeEntries: 4 });
    await auth.authorize(WALLET);
    for (let i = 0; i < 20; i++) await expect(auth.authorize(randomWallet(i))).rejects.toMatchObject({ status: 403 });
    const reads = state.reads;
    await expect(auth.authorize(WALLET)).resolves.toMatchObject({ appId: 9n });
    expect(state.reads).toBe(reads);
    // The refusal cache is bounded too: the oldest unknown wallets are looked up again.
    await expect(auth.authorize(randomWallet(0))).rejects.toMatchObject({ status: 403 });
    expect(state.reads).toBe(reads + 1);
  });

  it("limits chain lookups for unknown wallets per second: 503 without a chain call, known callers unaffected", async () => {
    const { state, view } = registry();
    const time = clock();
    const auth = new RegistryAuthorizer({ registry: view, ttlMs: 15_000, lookupsPerSecond: 5, now: time.now });
    await auth.authorize(WALLET); // one of the 5
    for (let i = 0; i < 4; i++) await expect(auth.authorize(randomWallet(i))).rejects.toMatchObject({ status: 403 });
    expect(state.reads).toBe(5);
    const overBudget = auth.authorize(randomWallet(100));
    await expect(overBudget).rejects.toMatchObject({ status: 503, code: "service_unavailable" });
    await expect(overBudget).rejects.toMatchObject({ reason: "registry_lookup_limit" });
    expect(state.reads).toBe(5);
    // Cached answers need no lookup: the registered caller and the refusals still answer as before.
    await expect(auth.authorize(WALLET)).resolves.toMatchObject({ appId: 9n });
    await expect(auth.authorize(randomWallet(0))).rejects.toMatchObject({ status: 403 });
    // Past its TTL a known caller is refreshed even while the budget is spent.
    time.advance(15_001);
    for (let i = 0; i < 5; i++) auth.authorize(randomWallet(200 + i)).catch(() => {});
    await expect(auth.authorize(WALLET)).resolves.toMatchObject({ appId: 9n });
    await expect(auth.authorize(randomWallet(300))).rejects.toMatchObject({ status: 503 });
    // The budget refills with time: one lookup per 200 ms at 5 per second.
    time.advance(200);
    await expect(auth.authorize(randomWallet(300))).rejects.toMatchObject({ status: 403 });
  });
});

function randomWallet(i: number): string {
  return `0x${i.toString(16).padStart(40, "a")}`;
}
