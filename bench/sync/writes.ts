// Orchestrator side of the sync bench's writer: runs bench/sync/writer.ts as its own process (the
// same child handling as the load generator of bench/derive.ts) and returns what it acknowledged.
import path from "node:path";
import { REPO_ROOT } from "../../scripts/devchain/paths.js";
import { runToCompletion, spawnChild } from "../load/child.js";
import type { WriterJob, WriterResult } from "./writer.js";

export async function runWriter(job: WriterJob): Promise<WriterResult> {
  const child = spawnChild(
    `writer ${job.prefix}`,
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "bench/sync/writer.ts"), JSON.stringify(job)],
    {
      cwd: REPO_ROOT,
    },
  );
  const lines = await runToCompletion(child);
  const line = lines.find((l) => l.startsWith('{"writes"'));
  if (!line) throw new Error(`the writer printed no result\n${child.tail()}`);
  const result = (JSON.parse(line) as { writes: WriterResult }).writes;
  if (result.errors > 0)
    process.stderr.write(
      `writer ${job.prefix}: ${result.errors} failed writes, e.g.\n  ${result.errorSamples.join("\n  ")}\n`,
    );
  return result;
}

/** Seconds the writer took, from its first write to its last acknowledgement. */
export const writerSeconds = (r: WriterResult): number => (r.endedAtMs - r.startedAtMs) / 1000;

/** Keys whose write was acknowledged. */
export function ackedCount(r: WriterResult): number {
  return r.ackedAtMs.filter((t) => t !== null).length;
}
