// The body of `make simulation` (one node) and `make simulation-multi` (N nodes): start a dev chain
// and the nodes, register them, publish the PID file, print a summary, then stay up until Ctrl-C or
// `make stop-simulation`, and stop everything on the way out.
import { Command } from "commander";
import { DEFAULT_DEPLOYMENT_PATH } from "../devchain/paths.js";
import { registerDemoApp } from "./registration.js";
import { displayPath } from "./table.js";
import { parseNodeCount } from "./options.js";
import { DEFAULT_LOG_DIR, DEFAULT_PID_FILE } from "./pid-file.js";
import { clusterSummary, startSupervisedCluster, stopSignal, superviseUntilStopped } from "./supervisor.js";

/** Seed of the app instance the simulations register for CLI use. */
export const DEMO_APP_SEED = "demo-app";

export interface SimulationCliOptions {
  name: string;
  script: string;
  description: string;
  /** Node count when neither --nodes nor NODES is given; undefined = fixed at one node (no option). */
  defaultNodes?: number;
}

export async function runSimulationCli(cli: SimulationCliOptions): Promise<never> {
  const program = new Command(cli.name)
    .description(cli.description)
    .option("--file <path>", "deployment record to write", DEFAULT_DEPLOYMENT_PATH)
    .option("--pid-file <path>", "where the running processes are recorded", DEFAULT_PID_FILE)
    .option("--log-dir <path>", "node logs (node-<i>.log)", DEFAULT_LOG_DIR);
  if (cli.defaultNodes !== undefined) {
    const fromEnv = process.env.NODES ? parseNodeCount(process.env.NODES) : cli.defaultNodes;
    program.option("--nodes <n>", "how many KMS nodes (or env NODES)", parseNodeCount, fromEnv);
  }
  const options = program.parse().opts<{ file: string; pidFile: string; logDir: string; nodes?: number }>();
  const say = (line: string): void => void process.stdout.write(`[${cli.name}] ${line}\n`);
  const stop = stopSignal();

  const { cluster, removeRecord } = await startSupervisedCluster({
    name: cli.name,
    script: cli.script,
    nodes: options.nodes ?? 1,
    deploymentFile: options.file,
    pidFile: options.pidFile,
    logDir: options.logDir,
    stop,
    say,
  });
  process.stdout.write(`\n${clusterSummary(cluster)}\n\n`);
  say(`running; PID file ${options.pidFile}. Ctrl-C or \`make stop-simulation\` to stop.`);
  // An app ready to use, so the CLI works against the simulation straight away.
  try {
    const app = await registerDemoApp(cluster.devchain.admin, { seed: DEMO_APP_SEED });
    const cliBase = `npx tsx client/cli.ts --deployment ${displayPath(options.file)} --allow-http --app-seed ${app.seed}`;
    say(`demo app ${app.appId} registered (instance wallet ${app.wallet}); try:`);
    say(`  ${cliBase} derive my/key --hex`);
    say(`  ${cliBase} kv put greeting hello && ${cliBase} kv get greeting`);
    say(`  ${cliBase} status`);
  } catch (error) {
    say(`could not register the demo app: ${(error as Error).message.split("\n")[0]}`);
  }
  const code = await superviseUntilStopped(cluster, stop, say);
  removeRecord();
  process.exit(code);
}
