// Per-file dev chain for integration tests: every test file gets its own anvil on a random port and
// its own temporary deployment file, so files can run in parallel and never touch .devchain/.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { createDevchainClients, type DevchainClients } from "../../scripts/devchain/clients.js";
import { startDevchain, type Devchain } from "../../scripts/devchain/start.js";

export interface TestDevchain extends Devchain {
  deploymentFile: string;
  /** Clients that sign as `privateKey` (e.g. an enclave instance's wallet) on this chain. */
  clientsFor(privateKey: Hex): DevchainClients;
  /** Stops the chain and deletes the temporary directory. */
  dispose(): Promise<void>;
}

export async function startTestDevchain(): Promise<TestDevchain> {
  const dir = mkdtempSync(path.join(tmpdir(), "nova-kms-devchain-"));
  const deploymentFile = path.join(dir, "deployment.json");
  const devchain = await startDevchain({ deploymentFile });
  return {
    ...devchain,
    deploymentFile,
    clientsFor: (privateKey) =>
      createDevchainClients(devchain.deployment.rpcUrl, devchain.deployment.chainId, privateKey),
    dispose: async () => {
      await devchain.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
