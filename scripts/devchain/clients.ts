// viem clients bound to one dev chain and one signing key.
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

export interface DevchainClients {
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
  account: Account;
  /** anvil_* cheat calls (balances, impersonation). */
  testClient: TestClient<"anvil", Transport, Chain>;
}

export function devChain(rpcUrl: string, chainId: number): Chain {
  return defineChain({
    id: chainId,
    name: "nova-kms-devchain",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export function createDevchainClients(rpcUrl: string, chainId: number, privateKey: Hex): DevchainClients {
  const chain = devChain(rpcUrl, chainId);
  const transport = http(rpcUrl);
  const account = privateKeyToAccount(privateKey);
  // Anvil mines on arrival; a short polling interval keeps receipt waits from idling for seconds.
  return {
    chain,
    account,
    publicClient: createPublicClient({ chain, transport, pollingInterval: 50 }),
    walletClient: createWalletClient({ chain, transport, account, pollingInterval: 50 }),
    testClient: createTestClient({ chain, transport, mode: "anvil", pollingInterval: 50 }),
  };
}

/** Asks the node for its chain id, for callers that only know an RPC URL. */
export async function fetchChainId(rpcUrl: string): Promise<number> {
  const probe = createPublicClient({ transport: http(rpcUrl) });
  return probe.getChainId();
}
