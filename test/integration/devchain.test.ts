// The dev chain tooling against a real anvil: deployment, the platform admin API, the operator
// callbacks into KMSRegistry, first-writer-wins on the master secret hash, the CLI and clean shutdown.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { getAddress, keccak256, stringToHex, zeroAddress, zeroHash, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kmsRegistryAbi } from "../../enclave/chain/abi/kmsRegistry.js";
import { RegistryReader } from "../../enclave/chain/registry-reader.js";
import { InstanceStatus, VersionStatus } from "../../enclave/chain/types.js";
import { startAnvil } from "../../scripts/devchain/anvil.js";
import { parseDeployment, readDeploymentFile } from "../../scripts/devchain/deployment-file.js";
import { describeChainError } from "../../scripts/devchain/errors.js";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { answersChainId } from "../../scripts/devchain/rpc-probe.js";
import { registerSimInstance } from "../../scripts/devchain/sim-instance.js";
import { startDevchain } from "../../scripts/devchain/start.js";
import { startTestDevchain, type TestDevchain } from "../support/devchain.js";
import { isProcessRunning } from "../support/process.js";
import { waitFor } from "../support/wait.js";

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const DEVCHAIN_CLI = path.join(REPO_ROOT, "scripts", "devchain.ts");

let chain: TestDevchain;
const scratch = mkdtempSync(path.join(tmpdir(), "nova-kms-devchain-test-"));

beforeAll(async () => {
  chain = await startTestDevchain();
});

afterAll(async () => {
  await chain?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

function kmsRead<T>(
  functionName: "isOperator" | "operatorCount" | "getOperators" | "kmsAppId" | "owner" | "novaAppRegistry",
  args: readonly unknown[] = [],
): Promise<T> {
  return chain.clients.publicClient.readContract({
    address: chain.deployment.kmsRegistry,
    abi: kmsRegistryAbi,
    functionName,
    args,
  } as never) as Promise<T>;
}

async function setMasterSecretHashAs(privateKey: Hex, hash: Hex): Promise<void> {
  const { publicClient, walletClient, account } = chain.clientsFor(privateKey);
  const { request } = await publicClient.simulateContract({
    address: chain.deployment.kmsRegistry,
    abi: kmsRegistryAbi,
    functionName: "setMasterSecretHash",
    args: [hash],
    account,
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });
  expect(receipt.status).toBe("success");
}

describe("deployment", () => {
  it("deploys both registries and registers the KMS as a Nova app", async () => {
    const { deployment, reader, clients } = chain;
    for (const address of [deployment.novaAppRegistry, deployment.kmsRegistry]) {
      expect((await clients.publicClient.getCode({ address }))?.length ?? 0).toBeGreaterThan(2);
    }
    expect(await kmsRead<bigint>("kmsAppId")).toBe(deployment.kmsAppId);
    expect(getAddress(await kmsRead<Address>("owner"))).toBe(getAddress(deployment.deployer.address));
    expect(getAddress(await kmsRead<Address>("novaAppRegistry"))).toBe(deployment.novaAppRegistry);

    const app = await reader.getApp(deployment.kmsAppId);
    expect(app.dappContract).toBe(deployment.kmsRegistry.toLowerCase());
    const version = await reader.getVersion(deployment.kmsAppId, deployment.kmsVersionId);
    expect(version.status).toBe(VersionStatus.ENROLLED);
  });

  it("writes a deployment file that round-trips and uses an anvil default key", () => {
    const onDisk = readDeploymentFile(chain.deploymentFile);
    expect(onDisk).toEqual(chain.deployment);
    expect(privateKeyToAccount(onDisk.deployer.privateKey).address).toBe(getAddress(onDisk.deployer.address));
    expect(onDisk.deployer.address).toBe(getAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"));
    expect(() =>
      parseDeployment(JSON.stringify({ ...JSON.parse(readFileSync(chain.deploymentFile, "utf8")), kmsAppId: 1 })),
    ).toThrow(/kmsAppId/);
  });

  it("refuses to start a second chain over a deployment file whose chain is still running", async () => {
    await expect(startDevchain({ deploymentFile: chain.deploymentFile })).rejects.toThrow(/still running/);
    expect(readDeploymentFile(chain.deploymentFile).rpcUrl).toBe(chain.deployment.rpcUrl);
  });
});

describe("platform admin API", () => {
  it("returns the new ids, funds instance wallets, and serializes concurrent calls", async () => {
    const { admin, deployment, clients } = chain;
    const appId = await admin.createApp({ dappContract: zeroAddress, metadataUri: "ipfs://admin-test" });
    const versionId = await admin.enrollVersion({ appId, versionName: "v1", codeMeasurement: zeroHash });
    expect(appId).toBeGreaterThan(deployment.kmsAppId);
    expect(versionId).toBe(1n);

    const instances = await Promise.all(
      Array.from({ length: 4 }, () => registerSimInstance(admin, deployment, { appId, versionId })),
    );
    const ids = instances.map((instance) => instance.instanceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const instance of instances) {
      expect((await chain.reader.getInstanceByWallet(instance.wallet)).id).toBe(instance.instanceId);
      expect(await clients.publicClient.getBalance({ address: instance.wallet })).toBeGreaterThan(0n);
    }
  });

  it("surfaces a revert with the contract's custom error", async () => {
    const { admin, deployment } = chain;
    const node = await registerSimInstance(admin, deployment);
    const again = admin.registerInstance({
      appId: deployment.kmsAppId,
      versionId: deployment.kmsVersionId,
      teeWallet: node.wallet,
      teePubkey: node.teePubkey,
      instanceUrl: "http://127.0.0.1:1",
    });
    await expect(again).rejects.toThrow();
    expect(describeChainError(await again.catch((error: unknown) => error))).toMatch(
      /^reverted: WalletAlreadyRegistered\(/,
    );
  });
});

describe("KMSRegistry operator set (registry callbacks)", () => {
  it("adds an instance once it is ACTIVE and zkVerified, and removes it when it stops", async () => {
    const { admin, deployment } = chain;
    const node = await registerSimInstance(admin, deployment, { zkVerified: false });
    const countBefore = await kmsRead<bigint>("operatorCount");
    expect(await kmsRead<boolean>("isOperator", [node.wallet])).toBe(false);

    await admin.setZkVerified(node.instanceId, true);
    expect(await kmsRead<boolean>("isOperator", [node.wallet])).toBe(true);
    expect(await kmsRead<bigint>("operatorCount")).toBe(countBefore + 1n);
    expect((await kmsRead<Address[]>("getOperators")).map((w) => w.toLowerCase())).toContain(node.wallet.toLowerCase());

    await admin.setInstanceStatus(node.instanceId, InstanceStatus.STOPPED);
    expect(await kmsRead<boolean>("isOperator", [node.wallet])).toBe(false);
    expect(await kmsRead<bigint>("operatorCount")).toBe(countBefore);
  });
});

describe("master secret hash", () => {
  it("lets the first eligible instance set it, and rejects ineligible callers and a second writer", async () => {
    const { admin, deployment, reader } = chain;
    // A fresh chain: no other test in this file sets the hash.
    expect(await reader.masterSecretHash()).toBe(zeroHash);
    const unverified = await registerSimInstance(admin, deployment, { zkVerified: false });
    const first = await registerSimInstance(admin, deployment);
    const second = await registerSimInstance(admin, deployment);
    const hashA = keccak256(stringToHex("secret A"));
    const hashB = keccak256(stringToHex("secret B"));

    await expect(setMasterSecretHashAs(unverified.privateKey, hashA)).rejects.toThrow(/NotEligibleSetter/);
    await setMasterSecretHashAs(first.privateKey, hashA);
    expect(await reader.masterSecretHash()).toBe(hashA);

    await expect(setMasterSecretHashAs(second.privateKey, hashB)).rejects.toThrow(/MasterSecretHashAlreadySet/);
    // Also on chain, not just in simulation: forced past gas estimation, the transaction reverts.
    const { publicClient, walletClient } = chain.clientsFor(second.privateKey);
    const forced = await walletClient.writeContract({
      address: deployment.kmsRegistry,
      abi: kmsRegistryAbi,
      functionName: "setMasterSecretHash",
      args: [hashB],
      gas: 200_000n,
    });
    expect((await publicClient.waitForTransactionReceipt({ hash: forced })).status).toBe("reverted");
    expect(await reader.masterSecretHash()).toBe(hashA);
  });
});

describe("process lifecycle", () => {
  it("stop() ends anvil (no orphan) and removes the deployment file", async () => {
    const own = await startTestDevchain();
    const { pid, rpcUrl } = own.anvil;
    expect(isProcessRunning(pid)).toBe(true);
    expect(existsSync(own.deploymentFile)).toBe(true);
    await own.dispose();
    expect(isProcessRunning(pid)).toBe(false);
    expect(existsSync(own.deploymentFile)).toBe(false);
    expect(await answersChainId(rpcUrl)).toBe(false);
    await own.stop(); // idempotent
  });
});

describe("no orphan anvil when the owning process ends without stop()", () => {
  const fixture = path.join(REPO_ROOT, "test", "support", "fixtures", "hold-anvil.ts");

  async function anvilPidOf(child: ReturnType<typeof execa>): Promise<number> {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    return waitFor(() => /^\d+\n/.test(output) && Number(output.trim()), 60_000, "fixture to print the anvil pid");
  }

  it.each(["SIGTERM", "SIGINT"] as const)("%s to the owner kills anvil", async (signal) => {
    const child = execa(TSX, [fixture], { cwd: REPO_ROOT, reject: false });
    try {
      const pid = await anvilPidOf(child);
      expect(isProcessRunning(pid)).toBe(true);
      child.kill(signal);
      const result = await child;
      expect(result.exitCode === undefined || result.exitCode !== 0).toBe(true);
      await waitFor(() => !isProcessRunning(pid), 20_000, `anvil ${pid} to exit after ${signal}`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("process.exit() of the owner kills anvil", async () => {
    const child = execa(TSX, [fixture, "exit"], { cwd: REPO_ROOT, reject: false });
    const pid = await anvilPidOf(child);
    expect((await child).exitCode).toBe(3);
    await waitFor(() => !isProcessRunning(pid), 20_000, `anvil ${pid} to exit after process.exit`);
  });
});

// Each CLI call is a fresh tsx process (~1–3 s of CPU on these shared 2-core machines), so these tests
// get more time than the default.
describe("CLI (scripts/devchain.ts, scripts/run.ts)", { timeout: 180_000 }, () => {
  const cli = (file: string, ...args: string[]) =>
    execa(TSX, [DEVCHAIN_CLI, "--file", file, ...args], { cwd: REPO_ROOT });
  const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

  it("start → admin commands → SIGINT: state visible on chain, clean exit, nothing left behind", async () => {
    const file = path.join(scratch, "cli-start.json");
    const server = execa(TSX, [DEVCHAIN_CLI, "--file", file, "start"], { cwd: REPO_ROOT, reject: false });
    try {
      const deployment = await waitFor(() => existsSync(file) && readDeploymentFile(file), 60_000, "deployment file");
      expect(deployment.anvilPid).toBeGreaterThan(0);
      const anvilPid = deployment.anvilPid as number;

      const appId = json((await cli(file, "create-app", "--metadata-uri", "ipfs://cli")).stdout).appId as string;
      const versionId = json((await cli(file, "enroll-version", "--app", appId, "--name", "cli-v1")).stdout)
        .versionId as string;
      const wallet = privateKeyToAccount(generatePrivateKey()).address;
      const registered = json(
        (
          await cli(
            file,
            "register-instance",
            "--wallet",
            wallet,
            "--app",
            appId,
            "--version",
            versionId,
            "--zk-verified",
          )
        ).stdout,
      );
      const instanceId = registered.instanceId as string;

      const reader = RegistryReader.fromRpcUrl(deployment.rpcUrl, deployment);
      const instance = await reader.getInstanceByWallet(wallet);
      expect(instance).toMatchObject({
        id: BigInt(instanceId),
        appId: BigInt(appId),
        versionId: BigInt(versionId),
        zkVerified: true,
      });
      expect(instance.teePubkey.length).toBe(120);

      await cli(file, "set-instance-status", instanceId, "stopped");
      await cli(file, "set-version-status", appId, versionId, "DEPRECATED");
      await cli(file, "set-app-status", appId, "2");
      expect((await reader.getInstanceByWallet(wallet)).status).toBe(InstanceStatus.STOPPED);
      expect((await reader.getVersion(BigInt(appId), BigInt(versionId))).status).toBe(VersionStatus.DEPRECATED);
      expect((await reader.getApp(BigInt(appId))).status).toBe(2);

      const bad = await execa(TSX, [DEVCHAIN_CLI, "--file", file, "set-app-status", appId, "bogus"], {
        cwd: REPO_ROOT,
        reject: false,
      });
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toMatch(/unknown app status/);

      const shown = json((await cli(file, "show")).stdout);
      expect(shown.kmsRegistry).toBe(deployment.kmsRegistry);
      expect((shown.chain as Record<string, unknown>).reachable).toBe(true);

      server.kill("SIGINT");
      const result = await server;
      expect(result.exitCode).toBe(0);
      expect(existsSync(file)).toBe(false);
      await waitFor(() => !isProcessRunning(anvilPid), 20_000, `anvil ${anvilPid} to exit`);
      expect(await answersChainId(deployment.rpcUrl)).toBe(false);
    } finally {
      if (server.exitCode === null) server.kill("SIGKILL");
    }
  });

  it("deploy --rpc puts the contracts onto an already running chain", async () => {
    const anvil = await startAnvil();
    try {
      const file = path.join(scratch, "cli-deploy.json");
      const printed = json((await cli(file, "deploy", "--rpc", anvil.rpcUrl)).stdout);
      const deployment = readDeploymentFile(file);
      expect(printed.kmsRegistry).toBe(deployment.kmsRegistry);
      expect(deployment.rpcUrl).toBe(anvil.rpcUrl);
      const reader = RegistryReader.fromRpcUrl(anvil.rpcUrl, deployment);
      expect((await reader.getApp(deployment.kmsAppId)).dappContract).toBe(deployment.kmsRegistry.toLowerCase());
    } finally {
      await anvil.stop();
    }
  });
});
