import { describe, expect, it } from "vitest";
import { InstanceStatus, type InstanceRecord } from "../../../enclave/chain/types.js";
import { KmsError } from "../../../enclave/errors.js";
import { createLogger } from "../../../enclave/log.js";
import { PeriodicTask } from "../../../enclave/periodic-task.js";
import { Readiness } from "../../../enclave/readiness.js";
import { ServingKeys } from "../../../enclave/serving-keys.js";
import { ServingState } from "../../../enclave/serving-state.js";
import { KvStore } from "../../../enclave/store/kv-store.js";

const WALLET = "0x00000000000000000000000000000000000000aa";
const KMS_APP_ID = 7n;

function instance(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: 1n,
    appId: KMS_APP_ID,
    versionId: 1n,
    operator: WALLET,
    instanceUrl: "http://node-a",
    teePubkey: new Uint8Array(),
    teeWallet: WALLET,
    zkVerified: true,
    status: InstanceStatus.ACTIVE,
    registeredAt: 1n,
    ...overrides,
  } as InstanceRecord;
}

function setup(record: () => InstanceRecord | Error) {
  const flags = { secretReady: false, keys: false, recovered: false };
  const readiness = new Readiness({
    registry: {
      getInstanceByWallet: async () => {
        const r = record();
        if (r instanceof Error) throw r;
        return r;
      },
    },
    wallet: WALLET,
    kmsAppId: KMS_APP_ID,
    configuredUrl: undefined,
    log: createLogger("silent"),
    secret: () => ({ ready: flags.secretReady, reason: "waiting for the master secret" }),
    holdsKeys: () => flags.keys,
    storeRecovered: () => flags.recovered,
  });
  return { readiness, flags };
}

describe("Readiness", () => {
  it("walks registered → secret → recovered, naming the first unmet condition", async () => {
    let current: InstanceRecord | Error = instance({ id: 0n });
    const { readiness, flags } = setup(() => current);
    expect(readiness.reason()).toBe("registration not checked yet");
    await readiness.refresh();
    expect(readiness.reason()).toBe("this node's wallet is not registered on chain");
    current = instance({ zkVerified: false });
    await readiness.refresh();
    expect(readiness.reason()).toBe("this node: Instance not zkVerified");
    current = instance({ appId: 8n });
    await readiness.refresh();
    expect(readiness.reason()).toBe("this node: Instance of another app");
    current = instance();
    await readiness.refresh();
    expect(readiness.registration).toEqual({ registered: true, reason: "registered", instanceUrl: "http://node-a" });
    expect(readiness.reason()).toBe("waiting for the master secret");
    expect(readiness.serving).toBe(false);
    flags.secretReady = true;
    flags.keys = true;
    expect(readiness.serving).toBe(true);
    expect(readiness.available).toBe(false);
    expect(readiness.reason()).toBe("KV store recovering from peers");
    flags.recovered = true;
    expect(readiness.available).toBe(true);
    expect(readiness.reason()).toBe("serving");
  });

  it("keeps its verdict through a registry outage", async () => {
    let current: InstanceRecord | Error = instance();
    const { readiness } = setup(() => current);
    await readiness.refresh();
    current = new Error("rpc down");
    await readiness.refresh();
    expect(readiness.registration.registered).toBe(true);
    const fresh = setup(() => new Error("rpc down")).readiness;
    await fresh.refresh();
    expect(fresh.reason()).toBe("registry unreadable");
  });
});

describe("ServingState", () => {
  const secretA = new Uint8Array(32).fill(1);
  const secretB = new Uint8Array(32).fill(2);

  function state(gate: { serving: boolean; available: boolean }) {
    let opened = 0;
    const serving = new ServingState({
      makeKeys: (secret) => new ServingKeys(secret),
      openStore: (keys) => {
        opened++;
        return new KvStore({ nodeId: WALLET, dataKey: (appId) => keys.dataKey(appId) });
      },
      serving: () => gate.serving,
      available: () => gate.available,
      reason: () => "not registered",
    });
    return { serving, opened: () => opened };
  }

  it("hands out keys and store only through the gate, with the readiness reason in the 503", () => {
    const gate = { serving: false, available: false };
    const { serving } = state(gate);
    serving.useSecret(secretA);
    expect(serving.holdsKeys).toBe(true);
    expect(serving.servingKeys()).toBeUndefined();
    expect(() => serving.requireKeys()).toThrow(
      new KmsError("service_unavailable", "Service not ready: not registered"),
    );
    gate.serving = true;
    expect(serving.requireKeys()).toBeInstanceOf(ServingKeys);
    expect(serving.servingStore()).toBe(serving.currentStore);
    expect(() => serving.requireStore()).toThrow(/recovering from peers/);
    gate.available = true;
    expect(serving.requireStore()).toBe(serving.currentStore);
  });

  it("keeps the store for the same secret and opens an empty one for another", () => {
    const { serving, opened } = state({ serving: true, available: true });
    const first = serving.useSecret(secretA);
    expect(first).toBeDefined();
    first!.put(1n, "k", new Uint8Array([1]));
    expect(serving.useSecret(undefined)).toBeUndefined();
    expect(serving.holdsKeys).toBe(false);
    expect(serving.useSecret(secretA)).toBeUndefined();
    expect(serving.currentStore?.get(1n, "k")).toBeDefined();
    const second = serving.useSecret(secretB);
    expect(second).toBeDefined();
    expect(second!.get(1n, "k")).toBeUndefined();
    expect(opened()).toBe(2);
  });

  it("reopens an empty store for the same secret when the one held missed deletes", () => {
    const { serving, opened } = state({ serving: true, available: true });
    expect(serving.reopenStore()).toBeUndefined();
    serving.useSecret(secretA)!.put(1n, "k", new Uint8Array([1]));
    const fresh = serving.reopenStore();
    expect(fresh).toBe(serving.currentStore);
    expect(fresh!.get(1n, "k")).toBeUndefined();
    expect(opened()).toBe(2);
    // Without keys, the store is dropped and the secret's return opens a fresh one.
    fresh!.put(1n, "k", new Uint8Array([1]));
    serving.useSecret(undefined);
    expect(serving.reopenStore()).toBeUndefined();
    expect(serving.currentStore).toBeUndefined();
    expect(serving.useSecret(secretA)!.get(1n, "k")).toBeUndefined();
    expect(opened()).toBe(3);
  });
});

describe("PeriodicTask", () => {
  it("never runs the job twice at once; runNow shares the run in progress", async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => {};
    const task = new PeriodicTask(1, async () => {
      runs++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => (release = r));
      running--;
    });
    task.start();
    const shared = task.runNow();
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    release();
    await shared;
    task.stop();
    expect(maxRunning).toBe(1);
  });
});
