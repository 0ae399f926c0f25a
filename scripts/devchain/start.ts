// A complete dev chain in one call: anvil + both registries + the KMS app, optionally announced in a
// deployment file that disappears again when the chain stops (a stale file would point at nothing).
import { existsSync } from "node:fs";
import type { Hex } from "viem";
import { DEPLOYER_KEY } from "./accounts.js";
import { startAnvil, type AnvilInstance, type AnvilOptions } from "./anvil.js";
import { connectDevchain, type DevchainConnection } from "./connect.js";
import { createDevchainClients } from "./clients.js";
import { deployKms } from "./deploy.js";
import { readDeploymentFile, removeDeploymentFile, writeDeploymentFile } from "./deployment-file.js";
import { onProcessExit } from "./exit-cleanup.js";
import { answersChainId } from "./rpc-probe.js";

export interface StartDevchainOptions extends AnvilOptions {
  /** Where to write the deployment record; none is written when omitted. */
  deploymentFile?: string;
  deployerKey?: Hex;
}

export interface Devchain extends DevchainConnection {
  anvil: AnvilInstance;
  /** Stops anvil and removes the deployment file. Idempotent. */
  stop(): Promise<void>;
}

export async function startDevchain(options: StartDevchainOptions = {}): Promise<Devchain> {
  const { deploymentFile, deployerKey = DEPLOYER_KEY, ...anvilOptions } = options;
  if (deploymentFile) await refuseIfLive(deploymentFile);

  const anvil = await startAnvil(anvilOptions);
  let connection: DevchainConnection;
  try {
    const clients = createDevchainClients(anvil.rpcUrl, anvil.chainId, deployerKey);
    const deployment = await deployKms(clients, { rpcUrl: anvil.rpcUrl, deployerKey });
    connection = connectDevchain({ ...deployment, anvilPid: anvil.pid });
  } catch (error) {
    await anvil.stop();
    throw error;
  }

  let unregisterFileCleanup = (): void => {};
  if (deploymentFile) {
    writeDeploymentFile(deploymentFile, connection.deployment);
    unregisterFileCleanup = onProcessExit(() => removeDeploymentFile(deploymentFile));
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (deploymentFile) removeDeploymentFile(deploymentFile);
      unregisterFileCleanup();
      await anvil.stop();
    })());
  return { ...connection, anvil, stop };
}

/** Two dev chains sharing one deployment file would silently redirect each other's tools. */
async function refuseIfLive(file: string): Promise<void> {
  if (!existsSync(file)) return;
  let rpcUrl: string;
  try {
    rpcUrl = readDeploymentFile(file).rpcUrl;
  } catch {
    return; // Unreadable leftovers get overwritten.
  }
  if (await answersChainId(rpcUrl)) {
    throw new Error(
      `a dev chain recorded in ${file} is still running at ${rpcUrl}; stop it first or use another deployment file`,
    );
  }
}
