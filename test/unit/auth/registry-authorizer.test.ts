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
    async getInstanceByWallet() {
      state.reads++;
      await state.gate;
      if (state.failing) throw new Error("rpc down");
      return state.instance;
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
});
