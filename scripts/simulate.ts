// `make simulation`: one KMS node in simulation mode on a fresh dev chain, registered and serving,
// until Ctrl-C or `make stop-simulation`. Options: --file, --pid-file, --log-dir (see --help).
import { runSimulationCli } from "./cluster/simulation-cli.js";

await runSimulationCli({
  name: "simulation",
  script: "scripts/simulate.ts",
  description: "run one simulated KMS node on a local dev chain",
});
