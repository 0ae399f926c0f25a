// One readable line for a failed chain call: the custom error's name and arguments when the contract
// reverted (e.g. `WalletAlreadyRegistered(0xab…, 3)`), otherwise viem's short message.
import { BaseError, ContractFunctionRevertedError } from "viem";

export function describeChainError(error: unknown): string {
  if (error instanceof BaseError) {
    const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
      const args = (reverted.data.args ?? []).map((arg) => String(arg)).join(", ");
      return `reverted: ${reverted.data.errorName}(${args})`;
    }
    return error.shortMessage;
  }
  return error instanceof Error ? error.message : String(error);
}
