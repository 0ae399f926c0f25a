// Command-line pieces shared by the cluster scripts.
import { InvalidArgumentError } from "commander";

export function parseNodeCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError("expected a node count from 1 to 16");
  return n;
}

/**
 * Node settings the scripts pass through from their own environment. MASTER_SECRET_HEX presets the
 * cluster secret (by default the first node generates one on chain and the others adopt it).
 */
export function passThroughEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const names = [
    "MASTER_SECRET_HEX",
    "LOG_LEVEL",
    "KMS_NODE_TICK_MS",
    "DATA_SYNC_INTERVAL_MS",
    "WRITE_QUORUM",
    "WRITE_QUORUM_TIMEOUT_MS",
  ];
  for (const name of names) {
    const value = env[name];
    if (value) out[name] = value;
  }
  return out;
}
