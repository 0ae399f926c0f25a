// `make run`: a local KMS cluster from nothing — dev chain, three node processes registered on chain,
// a demo app — and a walk-through of the SDK against it (scripts/demo/demo.ts). With --once (or
// CI=true) it exits after the demo: 0 when every step passed, 1 otherwise. Without it the cluster
// keeps running for you to try (Ctrl-C or `make stop-simulation` to stop).
import { Command } from "commander";
import { parseNodeCount } from "./cluster/options.js";
import { DEFAULT_LOG_DIR, DEFAULT_PID_FILE } from "./cluster/pid-file.js";
import { registerDemoApp } from "./cluster/registration.js";
import { clusterSummary, startSupervisedCluster, stopSignal, superviseUntilStopped } from "./cluster/supervisor.js";
import { displayPath } from "./cluster/table.js";
import { DEMO_APP_SEED } from "./cluster/simulation-cli.js";
import { runDemo } from "./demo/demo.js";
import { DEFAULT_DEPLOYMENT_PATH } from "./devchain/paths.js";

const options = new Command("run")
  .description("start a local KMS cluster and walk through the SDK against it")
  .option("--once", "exit after the demo (default when CI=true)", false)
  .option("--nodes <n>", "how many KMS nodes", parseNodeCount, 3)
  .option("--file <path>", "deployment record to write", DEFAULT_DEPLOYMENT_PATH)
  .option("--pid-file <path>", "where the running processes are recorded", DEFAULT_PID_FILE)
  .option("--log-dir <path>", "node logs (node-<i>.log)", DEFAULT_LOG_DIR)
  .parse()
  .opts<{ once: boolean; nodes: number; file: string; pidFile: string; logDir: string }>();

const once = options.once || process.env.CI === "true";
const say = (line: string): void => void process.stdout.write(`[run] ${line}\n`);
const print = (line: string): void => void process.stdout.write(`${line}\n`);
// Listening before anything starts, so Ctrl-C during set-up still ends in a clean stop.
const stop = stopSignal();

const { cluster, removeRecord } = await startSupervisedCluster({
  name: "run",
  script: "scripts/run.ts",
  nodes: options.nodes,
  deploymentFile: options.file,
  pidFile: options.pidFile,
  logDir: options.logDir,
  stop,
  say,
});
print(`\n${clusterSummary(cluster)}`);

let exitCode = 0;
try {
  const app = await registerDemoApp(cluster.devchain.admin, { seed: DEMO_APP_SEED });
  print(
    `\ndemo app ${app.appId} (version ${app.versionId}, instance ${app.instanceId}, wallet ${app.wallet}, SimulatedTee seed "${app.seed}")`,
  );
  const failed = await Promise.race([
    runDemo({
      nodes: cluster.nodes.map((n) => ({ name: `node-${n.index}`, url: n.url, wallet: n.wallet })),
      registry: cluster.devchain.reader,
      kmsAppId: cluster.devchain.deployment.kmsAppId,
      appSeed: app.seed,
      appId: app.appId,
      out: print,
    }),
    stop.received.then(() => ["interrupted"]),
  ]);
  if (failed.length > 0) exitCode = 1;

  if (!once && !failed.includes("interrupted")) {
    const cli = `npx tsx client/cli.ts --deployment ${displayPath(options.file)} --allow-http --app-seed ${app.seed}`;
    print("");
    say(
      `cluster running; node logs in ${displayPath(options.logDir)}/node-<i>.log, PID file ${displayPath(options.pidFile)}`,
    );
    say(`try: ${cli} kv put greeting hello   |   ${cli} kv get greeting   |   ${cli} status`);
    say("Ctrl-C (or `make stop-simulation` elsewhere) stops everything");
    const code = await superviseUntilStopped(cluster, stop, say);
    if (code !== 0) exitCode = code;
  }
} catch (error) {
  process.stderr.write(`run: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 1;
} finally {
  await cluster.stop();
  removeRecord();
}
process.exit(exitCode);
