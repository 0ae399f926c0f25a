import { describe, expect, it } from "vitest";
import { NodeDiscovery, nodeBaseUrl } from "../../../client/discovery.js";
import { KmsDiscoveryError } from "../../../client/errors.js";
import { InstanceStatus } from "../../../enclave/chain/types.js";
import { SimulatedTee } from "../../../enclave/tee/simulated.js";
import { instanceOf, memoryRegistry } from "./fake-node.js";

const KMS = 7n;
const tee = (seed: string) => new SimulatedTee({ seed });

describe("nodeBaseUrl", () => {
  it("normalizes and enforces the scheme policy", () => {
    expect(nodeBaseUrl("https://kms.example.com/", false)).toBe("https://kms.example.com");
    expect(nodeBaseUrl(" https://kms.example.com/base// ", false)).toBe("https://kms.example.com/base");
    expect(nodeBaseUrl("http://127.0.0.1:4000", false)).toBeUndefined();
    expect(nodeBaseUrl("http://127.0.0.1:4000", true)).toBe("http://127.0.0.1:4000");
    expect(nodeBaseUrl("ftp://x", true)).toBeUndefined();
    expect(nodeBaseUrl("https://user:pw@kms.example.com", false)).toBeUndefined();
    expect(nodeBaseUrl("https://kms.example.com/?a=1", false)).toBeUndefined();
    expect(nodeBaseUrl("", true)).toBeUndefined();
  });
});

describe("NodeDiscovery", () => {
  it("keeps only ACTIVE, zkVerified instances of the KMS app with a usable URL and key, keys from the chain", async () => {
    const good = tee("good");
    const registry = memoryRegistry([
      instanceOf(good, KMS, "https://good.example"),
      instanceOf(tee("unverified"), KMS, "https://a.example", { zkVerified: false }),
      instanceOf(tee("stopped"), KMS, "https://b.example", { status: InstanceStatus.STOPPED }),
      instanceOf(tee("no-url"), KMS, ""),
      instanceOf(tee("plain-http"), KMS, "http://c.example"),
      instanceOf(tee("bad-key"), KMS, "https://d.example", { teePubkey: new Uint8Array(120) }),
    ]);
    const nodes = await new NodeDiscovery({ registry, kmsAppId: KMS }).nodes();
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ url: "https://good.example", wallet: good.identity.wallet });
    // The on-chain SPKI is carried as the SEC1 point the envelope check compares against.
    expect(Buffer.from(nodes[0]!.teePubkey)).toEqual(Buffer.from(good.identity.teePubkey));
  });

  it("accepts http URLs only when allowed", async () => {
    const registry = memoryRegistry([instanceOf(tee("n"), KMS, "http://127.0.0.1:9")]);
    await expect(new NodeDiscovery({ registry, kmsAppId: KMS }).nodes()).rejects.toThrow(
      /http:\/\/ node URLs are refused/,
    );
    await expect(new NodeDiscovery({ registry, kmsAppId: KMS, allowHttp: true }).nodes()).resolves.toHaveLength(1);
  });

  it("refuses a record whose wallet differs from the one listed", async () => {
    const registry = memoryRegistry([instanceOf(tee("n"), KMS, "https://n.example")]);
    const inner = registry.getInstanceByWallet.bind(registry);
    registry.getInstanceByWallet = async (w) => ({
      ...(await inner(w)),
      teeWallet: "0x00000000000000000000000000000000000000aa",
    });
    await expect(new NodeDiscovery({ registry, kmsAppId: KMS }).nodes()).rejects.toBeInstanceOf(KmsDiscoveryError);
  });

  it("caches the list for the TTL, single-flight, and re-reads after invalidate or expiry", async () => {
    let now = 1_000;
    const registry = memoryRegistry([instanceOf(tee("n"), KMS, "https://n.example")]);
    const discovery = new NodeDiscovery({ registry, kmsAppId: KMS, cacheTtlMs: 10_000, now: () => now });
    await Promise.all([discovery.nodes(), discovery.nodes(), discovery.nodes()]);
    expect(registry.reads).toBe(1);
    now += 9_999;
    await discovery.nodes();
    expect(registry.reads).toBe(1);
    now += 1;
    await discovery.nodes();
    expect(registry.reads).toBe(2);
    discovery.invalidate();
    await discovery.nodes();
    expect(registry.reads).toBe(3);
  });

  it("turns a registry failure into a KmsDiscoveryError and does not cache it", async () => {
    const registry = memoryRegistry([instanceOf(tee("n"), KMS, "https://n.example")]);
    registry.broken = true;
    const discovery = new NodeDiscovery({ registry, kmsAppId: KMS });
    await expect(discovery.nodes()).rejects.toThrow(/cannot read the KMS node list.*registry unreachable/);
    registry.broken = false;
    await expect(discovery.nodes()).resolves.toHaveLength(1);
  });

  it("ignores instances of other apps", async () => {
    const registry = memoryRegistry([instanceOf(tee("n"), 8n, "https://n.example")]);
    await expect(new NodeDiscovery({ registry, kmsAppId: KMS }).nodes()).rejects.toThrow(
      /no usable KMS node registered for app 7/,
    );
  });
});
