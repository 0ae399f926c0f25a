// Puts simulated identities on the dev chain the way the Nova platform would after attestation:
// KMS nodes as ACTIVE, zkVerified, funded instances of the KMS app, and a demo app with one version
// and one instance. Identities come from seeds (enclave/tee/sim-keys.ts), so registering needs no
// running process: the same seed given to SIM_NODE_SEED or `new SimulatedTee({ seed })` holds the keys.
import { keccak256, stringToHex, zeroAddress, type Address } from "viem";
import { simulatedIdentity } from "../../enclave/tee/simulated.js";
import type { Deployment } from "../devchain/deployment-file.js";
import type { RegistryAdmin } from "../devchain/registry-admin.js";

/** Registers the node with this seed at `url`; returns its instance id. Its wallet is funded for gas. */
export async function registerNode(
  admin: RegistryAdmin,
  deployment: Deployment,
  node: { seed: string; url: string },
): Promise<bigint> {
  const identity = simulatedIdentity(node.seed);
  const instanceId = await admin.registerInstance({
    appId: deployment.kmsAppId,
    versionId: deployment.kmsVersionId,
    teeWallet: identity.wallet as Address,
    teePubkey: identity.teePubkeySpkiHex,
    instanceUrl: node.url,
  });
  await admin.setZkVerified(instanceId, true);
  return instanceId;
}

export interface DemoApp {
  appId: bigint;
  versionId: bigint;
  instanceId: bigint;
  /** Lower-case wallet of the app instance. */
  wallet: string;
  /** Seed of the app instance's identity: `new SimulatedTee({ seed })` acts as this instance. */
  seed: string;
}

/**
 * A new app with one enrolled version and one ACTIVE instance whose identity is `seed`, zkVerified
 * unless `zkVerified: false` (tests of the verification rule).
 */
export async function registerDemoApp(
  admin: RegistryAdmin,
  options: { seed: string; name?: string; zkVerified?: boolean },
): Promise<DemoApp> {
  const identity = simulatedIdentity(options.seed);
  const appId = await admin.createApp({
    dappContract: zeroAddress,
    metadataUri: `demo://${options.name ?? options.seed}`,
  });
  const versionId = await admin.enrollVersion({
    appId,
    versionName: "v1",
    // Stands in for the app image's measurement; only its uniqueness matters on a dev chain.
    codeMeasurement: keccak256(stringToHex(`demo-app:${options.seed}`)),
  });
  const instanceId = await admin.registerInstance({
    appId,
    versionId,
    teeWallet: identity.wallet as Address,
    teePubkey: identity.teePubkeySpkiHex,
    instanceUrl: "https://demo-app.invalid",
    // An app instance never sends transactions in the demo.
    funding: 0n,
  });
  if (options.zkVerified ?? true) await admin.setZkVerified(instanceId, true);
  return { appId, versionId, instanceId, wallet: identity.wallet.toLowerCase(), seed: options.seed };
}
