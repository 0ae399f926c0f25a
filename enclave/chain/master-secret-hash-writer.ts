// Submits `KMSRegistry.setMasterSecretHash` with a transaction signed inside the TEE
// (PROTOCOL.md §7): the node's wallet key never leaves the TEE, so the transaction is built
// here, signed by `tee.signTransaction`, and broadcast raw.
import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import type { Tee } from "../tee/tee.js";
import { kmsRegistryAbi } from "./abi/kmsRegistry.js";

export interface SubmitHashOptions {
  client: PublicClient;
  tee: Tee;
  kmsRegistry: Address;
  hash: Hex;
  receiptTimeoutMs: number;
}

export type SubmitHashResult = { status: "mined" } | { status: "refused"; reason: string };

/**
 * Sends the transaction and waits for its receipt. It is first simulated with `eth_call` so
 * a node that is not eligible, or that lost a race, learns it without paying gas; a revert
 * at either stage is reported as "refused" (the caller re-reads the on-chain hash either way).
 * Network errors propagate.
 */
export async function submitMasterSecretHash(options: SubmitHashOptions): Promise<SubmitHashResult> {
  const { client, tee, kmsRegistry, hash } = options;
  const from = (await tee.address()) as Address;
  const data = encodeFunctionData({ abi: kmsRegistryAbi, functionName: "setMasterSecretHash", args: [hash] });
  try {
    await client.call({ account: from, to: kmsRegistry, data });
  } catch (e) {
    return { status: "refused", reason: shortReason(e) };
  }
  const [chainId, nonce, gas, fees] = await Promise.all([
    client.getChainId(),
    client.getTransactionCount({ address: from, blockTag: "pending" }),
    client.estimateGas({ account: from, to: kmsRegistry, data }),
    client.estimateFeesPerGas(),
  ]);
  const signed = await tee.signTransaction({
    type: "eip1559",
    chainId,
    nonce,
    to: kmsRegistry,
    data,
    value: 0n,
    // Headroom over the estimate: eligibility checks read the registry, whose cost can vary.
    gas: (gas * 12n) / 10n,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
  });
  const txHash = await client.sendRawTransaction({ serializedTransaction: signed });
  const receipt = await client.waitForTransactionReceipt({ hash: txHash, timeout: options.receiptTimeoutMs });
  return receipt.status === "success" ? { status: "mined" } : { status: "refused", reason: "transaction reverted" };
}

function shortReason(e: unknown): string {
  const err = e as { shortMessage?: string; message?: string };
  return (err.shortMessage ?? err.message ?? "reverted").split("\n")[0]!;
}
