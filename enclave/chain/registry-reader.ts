// Reads the Nova app registry and the KMS registry (PROTOCOL.md §6) and returns plain typed records.
// Deliberately thin: no caching (the node's authorizer owns cache lifetimes, §4) and no error
// handling (a failed read must surface so the caller can answer 503 instead of guessing).
import { createPublicClient, getAddress, hexToBytes, http, type Address, type Hex, type PublicClient } from "viem";
import { kmsRegistryAbi } from "./abi/kmsRegistry.js";
import { novaAppRegistryAbi } from "./abi/novaAppRegistry.js";
import type { AppRecord, InstanceRecord, LowerAddress, VersionRecord } from "./types.js";

export interface RegistryReaderOptions {
  client: PublicClient;
  novaAppRegistry: Address;
  kmsRegistry: Address;
}

function lower(address: Address): LowerAddress {
  return address.toLowerCase() as LowerAddress;
}

export class RegistryReader {
  readonly novaAppRegistry: Address;
  readonly kmsRegistry: Address;
  private readonly client: PublicClient;

  constructor(options: RegistryReaderOptions) {
    this.client = options.client;
    this.novaAppRegistry = getAddress(options.novaAppRegistry);
    this.kmsRegistry = getAddress(options.kmsRegistry);
  }

  /** Convenience for callers that only have an RPC URL (scripts, tools). */
  static fromRpcUrl(rpcUrl: string, addresses: Omit<RegistryReaderOptions, "client">): RegistryReader {
    return new RegistryReader({ ...addresses, client: createPublicClient({ transport: http(rpcUrl) }) });
  }

  /** The instance whose enclave wallet is `wallet`; `id === 0n` when none is registered. */
  async getInstanceByWallet(wallet: Address): Promise<InstanceRecord> {
    const raw = await this.client.readContract({
      address: this.novaAppRegistry,
      abi: novaAppRegistryAbi,
      functionName: "getInstanceByWallet",
      args: [getAddress(wallet)],
    });
    return {
      id: raw.id,
      appId: raw.appId,
      versionId: raw.versionId,
      operator: lower(raw.operator),
      instanceUrl: raw.instanceUrl,
      teePubkey: hexToBytes(raw.teePubkey),
      teeWallet: lower(raw.teeWalletAddress),
      zkVerified: raw.zkVerified,
      status: raw.status,
      registeredAt: raw.registeredAt,
    };
  }

  async getApp(appId: bigint): Promise<AppRecord> {
    const raw = await this.client.readContract({
      address: this.novaAppRegistry,
      abi: novaAppRegistryAbi,
      functionName: "getApp",
      args: [appId],
    });
    return {
      id: raw.id,
      owner: lower(raw.owner),
      teeArch: raw.teeArch,
      dappContract: lower(raw.dappContract),
      metadataUri: raw.metadataUri,
      latestVersionId: raw.latestVersionId,
      createdAt: raw.createdAt,
      status: raw.status,
      appWallet: lower(raw.appWallet),
    };
  }

  async getVersion(appId: bigint, versionId: bigint): Promise<VersionRecord> {
    const raw = await this.client.readContract({
      address: this.novaAppRegistry,
      abi: novaAppRegistryAbi,
      functionName: "getVersion",
      args: [appId, versionId],
    });
    return {
      id: raw.id,
      versionName: raw.versionName,
      codeMeasurement: raw.codeMeasurement,
      imageUri: raw.imageUri,
      auditUrl: raw.auditUrl,
      auditHash: raw.auditHash,
      githubRunId: raw.githubRunId,
      status: raw.status,
      enrolledAt: raw.enrolledAt,
      enrolledBy: lower(raw.enrolledBy),
    };
  }

  /** Wallets (lower-case) of the app's ACTIVE instances, in registry order. */
  async getActiveInstances(appId: bigint): Promise<LowerAddress[]> {
    const wallets = await this.client.readContract({
      address: this.novaAppRegistry,
      abi: novaAppRegistryAbi,
      functionName: "getActiveInstances",
      args: [appId],
    });
    return wallets.map(lower);
  }

  /** The cluster's master secret hash; the zero hash means none has been agreed yet. */
  async masterSecretHash(): Promise<Hex> {
    return this.client.readContract({
      address: this.kmsRegistry,
      abi: kmsRegistryAbi,
      functionName: "masterSecretHash",
    });
  }
}
