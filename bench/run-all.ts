// `make bench`: every benchmark, one after another (they would skew each other in parallel on a
// 2-core machine), each as its own child process with short durations so the whole run stays under
// ~3 minutes (sync takes ~1 of them). Result lines ({"bench": ...}) go to stdout untouched; everything
// else the benchmarks print goes to stderr, so `make bench > results.jsonl` keeps only results.
// Run: npx tsx bench/run-all.ts [--duration 5]   (--duration: seconds per measured HTTP phase)
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../scripts/devchain/paths.js";
import { parseFlags, positiveNumber } from "./lib/args.js";
import { spawnChild } from "./load/child.js";

const flags = parseFlags(
  process.argv.slice(2),
  {
    duration: { default: "5", help: "seconds per measured phase of derive and kv, and of the lag phase of sync" },
    warmup: { default: "2", help: "seconds of warm-up per phase of derive and kv" },
  },
  "npx tsx bench/run-all.ts [flags]",
);
const duration = String(positiveNumber(flags.duration, "duration"));
const warmup = flags.warmup;

interface Step {
  name: string;
  file: string;
  nodeArgs: string[];
  args: string[];
}

const steps: Step[] = [
  { name: "crypto", file: "bench/crypto.ts", nodeArgs: [], args: [] },
  // kv-store.ts measures memory per record and wants gc() (its header says so).
  { name: "kv-store", file: "bench/kv-store.ts", nodeArgs: ["--expose-gc"], args: [] },
  { name: "derive", file: "bench/derive.ts", nodeArgs: [], args: ["--duration", duration, "--warmup", warmup] },
  { name: "kv", file: "bench/kv.ts", nodeArgs: [], args: ["--duration", duration, "--warmup", warmup] },
  // 3 node processes; --duration is its lag phase. The two 10,000-write catch-up phases add ~40 s.
  { name: "sync", file: "bench/sync.ts", nodeArgs: [], args: ["--duration", duration] },
];

async function runStep(step: Step): Promise<boolean> {
  const file = path.join(REPO_ROOT, step.file);
  if (!existsSync(file)) {
    process.stderr.write(`[bench] ${step.name}: ${step.file} not present, skipped\n`);
    return true;
  }
  const started = Date.now();
  process.stderr.write(`[bench] ${step.name} ...\n`);
  // SIGTERM, not SIGKILL, if we are stopped: the benchmark then stops its own node, chain and load
  // generator instead of leaving them orphaned.
  const child = spawnChild(step.name, process.execPath, [...step.nodeArgs, "--import", "tsx", file, ...step.args], {
    cwd: REPO_ROOT,
    exitSignal: "SIGTERM",
  });
  child.onLine((line) => {
    if (line.startsWith('{"bench"')) process.stdout.write(`${line}\n`);
    else process.stderr.write(`[${step.name}] ${line}\n`);
  });
  child.process.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  const code = await child.exited;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code === 0) {
    process.stderr.write(`[bench] ${step.name} done in ${seconds} s\n`);
    return true;
  }
  process.stderr.write(`[bench] ${step.name} FAILED (exit ${code}) after ${seconds} s\n`);
  return false;
}

async function main(): Promise<number> {
  const failed: string[] = [];
  // Sequential on purpose: see the header.
  for (const step of steps) if (!(await runStep(step))) failed.push(step.name);
  if (failed.length > 0) {
    process.stderr.write(`[bench] failed: ${failed.join(", ")}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
