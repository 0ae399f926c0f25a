// `make run` (for now): a dev chain with the KMS contracts and one registered, zkVerified demo KMS
// instance, read back through the same RegistryReader the node uses. With --once (or CI=true) it exits
// after printing; otherwise it keeps the chain up until Ctrl-C.
import { Command } from "commander";
import { toPrintableJson } from "./devchain/json.js";
import { DEFAULT_DEPLOYMENT_PATH } from "./devchain/paths.js";
import { registerSimInstance } from "./devchain/sim-instance.js";
import { startDevchain } from "./devchain/start.js";

const options = new Command("run")
  .description("start a dev chain, deploy the KMS contracts and register a demo KMS instance")
  .option("--once", "exit after printing (default when CI=true)", false)
  .option("--file <path>", "deployment record", DEFAULT_DEPLOYMENT_PATH)
  .parse()
  .opts<{ once: boolean; file: string }>();

const once = options.once || process.env.CI === "true";

// Registered before anything starts so Ctrl-C during set-up still ends in a clean stop; kept as `on`
// listeners so the dev chain's exit cleanup leaves the exit decision to this script.
const stopSignal = new Promise<string>((resolve) => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => resolve(signal));
});

const devchain = await startDevchain({ deploymentFile: options.file }).catch((error: unknown) => {
  process.stderr.write(`run: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
let exitCode = 0;
try {
  const { deployment, admin, reader } = devchain;
  const demo = await registerSimInstance(admin, deployment, { instanceUrl: "http://127.0.0.1:8000" });
  const [instance, app, version, activeKmsInstances, masterSecretHash] = await Promise.all([
    reader.getInstanceByWallet(demo.wallet),
    reader.getApp(deployment.kmsAppId),
    reader.getVersion(deployment.kmsAppId, deployment.kmsVersionId),
    reader.getActiveInstances(deployment.kmsAppId),
    reader.masterSecretHash(),
  ]);
  process.stdout.write(
    `${toPrintableJson({
      rpcUrl: deployment.rpcUrl,
      chainId: deployment.chainId,
      novaAppRegistry: deployment.novaAppRegistry,
      kmsRegistry: deployment.kmsRegistry,
      kmsAppId: deployment.kmsAppId,
      kmsVersionId: deployment.kmsVersionId,
      deploymentFile: options.file,
      demoInstance: { instanceId: demo.instanceId, wallet: demo.wallet.toLowerCase(), privateKey: demo.privateKey },
      readback: { instance, app, version, activeKmsInstances, masterSecretHash },
    })}\n`,
  );
  if (!once) {
    process.stderr.write(`dev chain running at ${deployment.rpcUrl}; Ctrl-C to stop\n`);
    const reason = await Promise.race([stopSignal, devchain.anvil.exited.then(() => "anvil exited")]);
    if (reason === "anvil exited") exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`run: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 1;
} finally {
  await devchain.stop();
}
process.exit(exitCode);
