// Local KMS clusters of real node processes, for scripts and tests.
//
//   const chain = await startDevchain();                                   // scripts/devchain
//   const node = await startNodeProcess({ env: deploymentEnv(chain.deployment), seed: "a", logFile: "logs/a.log" });
//   await registerNode(chain.admin, chain.deployment, { seed: node.seed, url: node.url });
//   await waitForServing(node.url, 30_000);                                // /status node.service_available
//   node.pause(); node.resume(); await node.kill(); await node.stop();     // SIGSTOP / SIGCONT / SIGKILL / SIGTERM
//   const app = await registerDemoApp(chain.admin, { seed: "app" });
//   // new SimulatedTee({ seed: "app" }) acts as that app
//
// A killed node comes back at the same registered URL with `startNodeProcess({ ...same, port: old.port })`.
// Or everything at once: `const cluster = await startCluster({ nodes: 3, logDir: "logs" })`.
// Node processes are SIGKILLed if the process that started them exits without stopping them.
export { deploymentEnv, startNodeProcess, type NodeProcess, type NodeProcessOptions } from "./node-process.js";
export { registerDemoApp, registerNode, type DemoApp } from "./registration.js";
export { answersHealth, fetchStatus, pollUntil, waitForHealth, waitForServing } from "./wait.js";
export type { StatusView } from "../../enclave/protocol/views.js";
export {
  nodeSeed,
  startCluster,
  DEFAULT_SERVING_TIMEOUT_MS,
  type Cluster,
  type ClusterNode,
  type StartClusterOptions,
} from "./cluster.js";
export { isAlive } from "./process-control.js";
export { DEFAULT_LOG_DIR, DEFAULT_PID_FILE, readSimulationRecord, type SimulationRecord } from "./pid-file.js";
