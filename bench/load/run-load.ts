// Orchestrator side of the KMS load generator: runs bench/load/kms-load.ts as its own process and
// collects the per-phase results it prints.
import path from "node:path";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { runToCompletion, spawnChild } from "./child.js";
import type { LoadJob, PhaseResult } from "./kms-load.js";

export async function runLoad(job: LoadJob): Promise<PhaseResult[]> {
  const child = spawnChild(
    "load generator",
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "bench/load/kms-load.ts"), JSON.stringify(job)],
    {
      cwd: REPO_ROOT,
    },
  );
  const lines = await runToCompletion(child);
  const results = lines
    .filter((l) => l.startsWith('{"phase"'))
    .map((l) => (JSON.parse(l) as { phase: PhaseResult }).phase);
  if (results.length !== job.phases.length)
    throw new Error(`load generator reported ${results.length} of ${job.phases.length} phases\n${child.tail()}`);
  return results;
}
