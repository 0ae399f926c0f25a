// `make stop-simulation`: ends whatever a simulation recorded in its PID file still runs. The
// supervising script goes first (it stops its nodes and chain in order); anything left after that —
// e.g. when the supervisor itself was killed — gets SIGTERM, then SIGKILL. Processes are checked by
// command line before each signal so a pid reused by something else is left alone. Nothing running
// is not an error.
import { Command } from "commander";
import { answersChainId } from "./devchain/rpc-probe.js";
import { readDeploymentFile, removeDeploymentFile } from "./devchain/deployment-file.js";
import {
  DEFAULT_PID_FILE,
  readSimulationRecord,
  removeSimulationRecord,
  type SimulationRecord,
} from "./cluster/pid-file.js";
import { isOurs, signal, waitUntilGone } from "./cluster/process-control.js";
import { recordedProcesses } from "./cluster/supervisor.js";

const SUPERVISOR_GRACE_MS = 15_000;
const TERM_GRACE_MS = 5_000;

const options = new Command("stop-simulation")
  .description("stop the simulation recorded in the PID file")
  .option("--pid-file <path>", "PID file written by the simulation scripts", DEFAULT_PID_FILE)
  .parse()
  .opts<{ pidFile: string }>();

const say = (line: string): void => void process.stdout.write(`[stop-simulation] ${line}\n`);

let record: SimulationRecord | undefined;
try {
  record = readSimulationRecord(options.pidFile);
} catch (error) {
  say(`${(error as Error).message}; removing it`);
  removeSimulationRecord(options.pidFile);
}
if (!record) {
  say(`nothing to stop (no ${options.pidFile})`);
  process.exit(0);
}

const processes = recordedProcesses(record);
const running = () => processes.filter((p) => isOurs(p.pid, p.marker));

const before = running();
if (before.length === 0) say("no recorded process is running (stale PID file)");

const [supervisor] = processes;
if (supervisor && isOurs(supervisor.pid, supervisor.marker)) {
  say(`SIGTERM → ${supervisor.what} (pid ${supervisor.pid}); it stops its nodes and the chain`);
  signal(supervisor.pid, "SIGTERM");
  // The supervisor's own graceful stop covers every other process; give it time to do it in order.
  await waitUntilGone(
    processes.map((p) => p.pid),
    SUPERVISOR_GRACE_MS,
  );
}

let left = running();
if (left.length > 0) {
  for (const p of left) {
    say(`SIGTERM → ${p.what} (pid ${p.pid})`);
    signal(p.pid, "SIGTERM");
    signal(p.pid, "SIGCONT"); // a paused process would hold the SIGTERM
  }
  await waitUntilGone(
    left.map((p) => p.pid),
    TERM_GRACE_MS,
  );
  left = running();
  for (const p of left) {
    say(`SIGKILL → ${p.what} (pid ${p.pid}), still there after ${TERM_GRACE_MS} ms`);
    signal(p.pid, "SIGKILL");
  }
  await waitUntilGone(
    left.map((p) => p.pid),
    TERM_GRACE_MS,
  );
}
const survivors = running();
for (const p of before) {
  if (!survivors.includes(p)) say(`stopped ${p.what} (pid ${p.pid})`);
}

removeSimulationRecord(options.pidFile);
say(`removed ${options.pidFile}`);
if (record.deploymentFile) await removeOwnDeployment(record.deploymentFile, record);

if (survivors.length > 0) {
  say(`could not stop: ${survivors.map((p) => `${p.what} (pid ${p.pid})`).join(", ")}`);
  process.exit(1);
}

/** The deployment file goes only if it describes this simulation's chain, or a chain that is gone. */
async function removeOwnDeployment(file: string, sim: SimulationRecord): Promise<void> {
  let deployment;
  try {
    deployment = readDeploymentFile(file);
  } catch {
    return; // Already removed (the supervisor does it) or never there.
  }
  const ours = deployment.anvilPid === sim.anvilPid && deployment.rpcUrl === sim.rpcUrl;
  if (ours || !(await answersChainId(deployment.rpcUrl))) {
    removeDeploymentFile(file);
    say(`removed ${file}`);
  } else {
    say(`left ${file}: it describes another running chain (${deployment.rpcUrl})`);
  }
}
