// Plays the Nova platform on a dev chain: the owner-only admin calls of LocalNovaAppRegistry
// (PROTOCOL.md §6). Every call is simulated first (so a revert surfaces with its custom error name),
// then sent, and only returns once its receipt is in; ids come from the emitted events.
import {
  getAddress,
  isAddress,
  parseEther,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { novaAppRegistryAbi } from "../../enclave/chain/abi/novaAppRegistry.js";
import type { AppStatus, InstanceStatus, VersionStatus } from "../../enclave/chain/types.js";
import type { DevchainClients } from "./clients.js";

/** Enough for thousands of setMasterSecretHash-sized transactions on anvil's default gas price. */
export const DEFAULT_INSTANCE_FUNDING = parseEther("100");

export interface RegisterInstanceParams {
  appId: bigint;
  versionId: bigint;
  teeWallet: Address;
  /** DER SPKI or SEC1 point of the instance's P-384 key; any bytes are accepted on a dev chain. */
  teePubkey: Hex | Uint8Array;
  instanceUrl: string;
  /** Defaults to the admin account, as the operator is informational here. */
  operator?: Address;
  /** Wei to give the instance wallet so it can pay gas (0n to skip). */
  funding?: bigint;
}

/** The event each creating call emits, and which of its fields carries the new id. */
const ID_FIELD = { AppCreated: "appId", VersionEnrolled: "versionId", InstanceRegistered: "instanceId" } as const;
type EventName = keyof typeof ID_FIELD;

export class RegistryAdmin {
  readonly registry: Address;
  private readonly clients: DevchainClients;
  // One admin key means one nonce sequence: transactions are sent one at a time so concurrent callers
  // cannot race viem's nonce lookup.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(clients: DevchainClients, novaAppRegistry: Address) {
    this.clients = clients;
    this.registry = getAddress(novaAppRegistry);
  }

  async createApp(params: { owner?: Address; dappContract: Address; metadataUri?: string }): Promise<bigint> {
    const receipt = await this.transact("createApp", [
      params.owner ?? this.clients.account.address,
      params.dappContract,
      params.metadataUri ?? "",
    ]);
    return this.idFromEvent(receipt, "AppCreated");
  }

  async enrollVersion(params: { appId: bigint; versionName: string; codeMeasurement: Hex }): Promise<bigint> {
    const receipt = await this.transact("enrollVersion", [params.appId, params.versionName, params.codeMeasurement]);
    return this.idFromEvent(receipt, "VersionEnrolled");
  }

  async registerInstance(params: RegisterInstanceParams): Promise<bigint> {
    const teePubkey = typeof params.teePubkey === "string" ? params.teePubkey : toHex(params.teePubkey);
    const receipt = await this.transact("registerInstance", [
      params.appId,
      params.versionId,
      params.operator ?? this.clients.account.address,
      params.instanceUrl,
      teePubkey,
      params.teeWallet,
    ]);
    const instanceId = this.idFromEvent(receipt, "InstanceRegistered");
    const funding = params.funding ?? DEFAULT_INSTANCE_FUNDING;
    if (funding > 0n) await this.fund(params.teeWallet, funding);
    return instanceId;
  }

  async setZkVerified(instanceId: bigint, zkVerified: boolean): Promise<bigint> {
    await this.transact("setZkVerified", [instanceId, zkVerified]);
    return instanceId;
  }

  async setInstanceStatus(instanceId: bigint, status: InstanceStatus): Promise<bigint> {
    await this.transact("setInstanceStatus", [instanceId, status]);
    return instanceId;
  }

  async setVersionStatus(appId: bigint, versionId: bigint, status: VersionStatus): Promise<bigint> {
    await this.transact("setVersionStatus", [appId, versionId, status]);
    return versionId;
  }

  async setAppStatus(appId: bigint, status: AppStatus): Promise<bigint> {
    await this.transact("setAppStatus", [appId, status]);
    return appId;
  }

  /** Sets (not adds to) the balance of `wallet`; anvil-only. */
  async fund(wallet: Address, wei: bigint = DEFAULT_INSTANCE_FUNDING): Promise<void> {
    if (!isAddress(wallet)) throw new Error(`not an address: ${wallet}`);
    await this.clients.testClient.setBalance({ address: wallet, value: wei });
  }

  private transact(functionName: string, args: readonly unknown[]): Promise<TransactionReceipt> {
    const run = async (): Promise<TransactionReceipt> => {
      const { publicClient, walletClient, account } = this.clients;
      // The ABI is typed, but routing every admin call through one helper needs a loose signature;
      // the public methods above carry the precise parameter types.
      const { request } = await publicClient.simulateContract({
        address: this.registry,
        abi: novaAppRegistryAbi,
        functionName,
        args,
        account,
      } as Parameters<typeof publicClient.simulateContract>[0]);
      const hash = await walletClient.writeContract(request as Parameters<typeof walletClient.writeContract>[0]);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`${functionName} reverted on chain (tx ${hash})`);
      return receipt;
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private idFromEvent(receipt: TransactionReceipt, eventName: EventName): bigint {
    const logs = parseEventLogs({ abi: novaAppRegistryAbi, logs: receipt.logs, eventName }).filter(
      (log) => getAddress(log.address) === this.registry,
    );
    const first = logs[0];
    if (!first) throw new Error(`${eventName} event missing from transaction ${receipt.transactionHash}`);
    const id = (first.args as Record<string, unknown>)[ID_FIELD[eventName]];
    if (typeof id !== "bigint") throw new Error(`${eventName} event carries no id`);
    return id;
  }
}
