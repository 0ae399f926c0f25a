// Deploys the two registries onto a chain and registers the KMS itself as a Nova app, so that the
// chain looks like the platform would after the KMS app was published (PROTOCOL.md §6).
import { getAddress, keccak256, stringToHex, type Address, type Hex, type TransactionReceipt } from "viem";
import { kmsRegistryAbi } from "../../enclave/chain/abi/kmsRegistry.js";
import { loadArtifact } from "../contract-artifacts.js";
import type { DevchainClients } from "./clients.js";
import type { Deployment } from "./deployment-file.js";
import { RegistryAdmin } from "./registry-admin.js";

export interface DeployOptions {
  rpcUrl: string;
  /** Must be the key the clients sign with; recorded in the deployment for the admin commands. */
  deployerKey: Hex;
  kmsVersionName?: string;
  /** Stand-in for the enclave image measurement (PCRs) of the KMS build. */
  kmsCodeMeasurement?: Hex;
  kmsMetadataUri?: string;
}

export const DEV_KMS_VERSION_NAME = "dev";
export const DEV_KMS_CODE_MEASUREMENT: Hex = keccak256(stringToHex("nova-kms:devchain:code-measurement"));

export async function deployKms(clients: DevchainClients, options: DeployOptions): Promise<Deployment> {
  const { publicClient, walletClient, account } = clients;

  const deploy = async (
    name: "KMSRegistry" | "LocalNovaAppRegistry",
    args: readonly unknown[],
  ): Promise<TransactionReceipt> => {
    const { abi, bytecode } = loadArtifact(name);
    const hash = await walletClient.deployContract({ abi, bytecode, args } as Parameters<
      typeof walletClient.deployContract
    >[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress)
      throw new Error(`deploying ${name} failed (tx ${hash})`);
    return receipt;
  };

  const registryReceipt = await deploy("LocalNovaAppRegistry", []);
  const novaAppRegistry = getAddress(registryReceipt.contractAddress as Address);
  const kmsReceipt = await deploy("KMSRegistry", [account.address, novaAppRegistry]);
  const kmsRegistry = getAddress(kmsReceipt.contractAddress as Address);

  const admin = new RegistryAdmin(clients, novaAppRegistry);
  const kmsAppId = await admin.createApp({
    owner: account.address,
    dappContract: kmsRegistry,
    metadataUri: options.kmsMetadataUri ?? "nova-kms://devchain",
  });
  const kmsVersionId = await admin.enrollVersion({
    appId: kmsAppId,
    versionName: options.kmsVersionName ?? DEV_KMS_VERSION_NAME,
    codeMeasurement: options.kmsCodeMeasurement ?? DEV_KMS_CODE_MEASUREMENT,
  });

  // Must precede any instance registration: KMSRegistry rejects operator callbacks for other app ids.
  const { request } = await publicClient.simulateContract({
    address: kmsRegistry,
    abi: kmsRegistryAbi,
    functionName: "setKmsAppId",
    args: [kmsAppId],
    account,
  });
  const setHash = await walletClient.writeContract(request);
  const setReceipt = await publicClient.waitForTransactionReceipt({ hash: setHash });
  if (setReceipt.status !== "success") throw new Error(`setKmsAppId reverted (tx ${setHash})`);

  return {
    rpcUrl: options.rpcUrl,
    chainId: clients.chain.id,
    novaAppRegistry,
    kmsRegistry,
    kmsAppId,
    kmsVersionId,
    deployer: { address: account.address, privateKey: options.deployerKey },
    deployedAtBlock: setReceipt.blockNumber,
  };
}
