// RegistryReader against a real anvil with the real contracts: what the node will see on chain.
import { getAddress, keccak256, stringToHex, zeroAddress, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kmsRegistryAbi } from "../../enclave/chain/abi/kmsRegistry.js";
import { RegistryReader } from "../../enclave/chain/registry-reader.js";
import { AppStatus, InstanceStatus, VersionStatus } from "../../enclave/chain/types.js";
import { startAnvil } from "../../scripts/devchain/anvil.js";
import { newP384PublicKeySpki, registerSimInstance } from "../../scripts/devchain/sim-instance.js";
import { startTestDevchain, type TestDevchain } from "../support/devchain.js";

let chain: TestDevchain;

beforeAll(async () => {
  chain = await startTestDevchain();
});

afterAll(async () => {
  await chain?.dispose();
});

describe("RegistryReader", () => {
  it("reads back a registered instance with typed fields", async () => {
    const { admin, reader, deployment } = chain;
    const wallet = privateKeyToAccount(generatePrivateKey()).address;
    const teePubkey = newP384PublicKeySpki();
    const instanceId = await admin.registerInstance({
      appId: deployment.kmsAppId,
      versionId: deployment.kmsVersionId,
      teeWallet: wallet,
      teePubkey,
      instanceUrl: "http://127.0.0.1:18080",
    });

    // Checksummed input, lower-case output (the canonical form of PROTOCOL.md §1).
    const instance = await reader.getInstanceByWallet(getAddress(wallet));
    expect(instance.id).toBe(instanceId);
    expect(instance.appId).toBe(deployment.kmsAppId);
    expect(instance.versionId).toBe(deployment.kmsVersionId);
    expect(instance.teeWallet).toBe(wallet.toLowerCase());
    expect(instance.operator).toBe(deployment.deployer.address.toLowerCase());
    expect(instance.instanceUrl).toBe("http://127.0.0.1:18080");
    expect(instance.teePubkey).toBeInstanceOf(Uint8Array);
    expect(instance.teePubkey.length).toBe(120);
    expect(Buffer.from(instance.teePubkey).equals(Buffer.from(teePubkey))).toBe(true);
    expect(instance.status).toBe(InstanceStatus.ACTIVE);
    expect(instance.zkVerified).toBe(false);
    expect(typeof instance.registeredAt).toBe("bigint");

    await admin.setZkVerified(instanceId, true);
    expect((await reader.getInstanceByWallet(wallet)).zkVerified).toBe(true);
  });

  it("returns id 0 for a wallet that was never registered", async () => {
    const unknown = await chain.reader.getInstanceByWallet(privateKeyToAccount(generatePrivateKey()).address);
    expect(unknown.id).toBe(0n);
    expect(unknown.appId).toBe(0n);
    expect(unknown.teeWallet).toBe(zeroAddress);
    expect(unknown.teePubkey.length).toBe(0);
    expect(unknown.zkVerified).toBe(false);
  });

  it("reads apps and versions, and follows status changes", async () => {
    const { admin, reader, deployment } = chain;
    const app = await reader.getApp(deployment.kmsAppId);
    expect(app.id).toBe(deployment.kmsAppId);
    expect(app.dappContract).toBe(deployment.kmsRegistry.toLowerCase());
    expect(app.owner).toBe(deployment.deployer.address.toLowerCase());
    expect(app.status).toBe(AppStatus.ACTIVE);

    const measurement = keccak256(stringToHex("reader-test"));
    const appId = await admin.createApp({ dappContract: zeroAddress, metadataUri: "ipfs://reader-test" });
    const versionId = await admin.enrollVersion({ appId, versionName: "v1.2.3", codeMeasurement: measurement });
    const version = await reader.getVersion(appId, versionId);
    expect(version).toMatchObject({
      id: versionId,
      versionName: "v1.2.3",
      codeMeasurement: measurement,
      status: VersionStatus.ENROLLED,
    });
    expect(version.enrolledBy).toBe(deployment.deployer.address.toLowerCase());
    expect((await reader.getApp(appId)).latestVersionId).toBe(versionId);

    await admin.setVersionStatus(appId, versionId, VersionStatus.REVOKED);
    expect((await reader.getVersion(appId, versionId)).status).toBe(VersionStatus.REVOKED);
    await admin.setAppStatus(appId, AppStatus.INACTIVE);
    expect((await reader.getApp(appId)).status).toBe(AppStatus.INACTIVE);
  });

  it("lists active instances of an app and drops stopped ones", async () => {
    const { admin, reader, deployment } = chain;
    const appId = await admin.createApp({ dappContract: zeroAddress });
    const versionId = await admin.enrollVersion({ appId, versionName: "v1", codeMeasurement: zeroHash });
    const a = await registerSimInstance(admin, deployment, { appId, versionId });
    const b = await registerSimInstance(admin, deployment, { appId, versionId, zkVerified: false });

    const active = await reader.getActiveInstances(appId);
    expect([...active].sort()).toEqual([a.wallet.toLowerCase(), b.wallet.toLowerCase()].sort());

    await admin.setInstanceStatus(a.instanceId, InstanceStatus.STOPPED);
    expect(await reader.getActiveInstances(appId)).toEqual([b.wallet.toLowerCase()]);
    expect((await reader.getInstanceByWallet(a.wallet)).status).toBe(InstanceStatus.STOPPED);
  });

  it("reads the master secret hash: zero until an eligible instance sets it", async () => {
    const { admin, reader, deployment } = chain;
    expect(await reader.masterSecretHash()).toBe(zeroHash);
    const node = await registerSimInstance(admin, deployment);
    const hash = keccak256(stringToHex("reader-test-secret"));
    const { publicClient, walletClient, account } = chain.clientsFor(node.privateKey);
    const { request } = await publicClient.simulateContract({
      address: deployment.kmsRegistry,
      abi: kmsRegistryAbi,
      functionName: "setMasterSecretHash",
      args: [hash],
      account,
    });
    await publicClient.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });
    expect(await reader.masterSecretHash()).toBe(hash);
  });

  it("propagates errors instead of answering (the node maps them to 503)", async () => {
    // A reader whose chain went away: an anvil that was started and stopped again.
    const gone = await startAnvil();
    await gone.stop();
    const dead = RegistryReader.fromRpcUrl(gone.rpcUrl, {
      novaAppRegistry: chain.deployment.novaAppRegistry,
      kmsRegistry: chain.deployment.kmsRegistry,
    });
    await expect(dead.getInstanceByWallet(zeroAddress)).rejects.toThrow();
    await expect(dead.masterSecretHash()).rejects.toThrow();
    // An unknown app id reverts in LocalNovaAppRegistry; the reader must not turn that into a record.
    await expect(chain.reader.getApp(10_000n)).rejects.toThrow();
  });
});
