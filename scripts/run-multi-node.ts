// `make simulation-multi` (NODES=3): N KMS nodes as separate processes on a fresh dev chain, each
// registered and serving, until Ctrl-C or `make stop-simulation`. Options: --nodes, --file,
// --pid-file, --log-dir (see --help).
import { runSimulationCli } from "./cluster/simulation-cli.js";

await runSimulationCli({
  name: "simulation-multi",
  script: "scripts/run-multi-node.ts",
  description: "run a cluster of simulated KMS nodes on a local dev chain",
  defaultNodes: 3,
});
