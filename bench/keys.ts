// Named keys (PROTOCOL.md §12, DESIGN.md "Performance": bench/keys):
//   http        POST /kms/keys/<name>/encrypt and POST /kms/decrypt of 256-byte plaintexts through
//               the whole protocol, set up and loaded exactly like bench/derive.ts (one node process
//               on a dev chain, the load generator in its own process, concurrency 32), with
//               POST /kms/derive measured IN THE SAME RUN on the same node as the baseline. After an
//               untimed warm-up of each op, --rounds short phases per op, the order rotating from
//               round to round, so a neighbour's burst hits baseline and candidates alike; each op's
//               phases are pooled. Goal: node CPU per encrypt/decrypt within 0.1 ms of derive's.
//   in-process  bench/keys/in-process.ts under --expose-gc: the node's key stack with no peers —
//               create/rotate keys/s, heap + external bytes per key version at --keys keys and after
//               rotating --rotate of them, and CPU µs of NamedKeys.encrypt/decrypt vs the derive HKDF.
// Lines {"bench":"keys",...} on stdout (see bench/README.md), a summary table on stderr.
// Run: npx tsx bench/keys.ts [--duration 10] [--warmup 2] [--rounds 5] [--part all|http|in-process]
//        [--plaintext-bytes 256] [--keys 100000] [--apps 10] [--rotate 10000] [--concurrency 32]
//        [--client direct|sdk] [--cpu-prof DIR]
// The keys-specific flags and --duration also take their defaults from the environment
// (KEYS_BENCH_DURATION, KEYS_BENCH_ROUNDS, KEYS_BENCH_KEYS, …; see --help).
import path from "node:path";
import { REPO_ROOT } from "../scripts/devchain/paths.js";
import { positiveNumber } from "./lib/args.js";
import { percentile } from "./lib/percentile.js";
import { printResult } from "./lib/result.js";
import { spawnChild } from "./load/child.js";
import { readSettings, runMain, withKmsNode, type HttpBenchSettings } from "./load/http-bench.js";
import type { LoadOp, LoadPhase, PhaseResult } from "./load/kms-load.js";
import { runLoad } from "./load/run-load.js";

const BENCH = "keys";
const KEY_NAME = "bench-encrypt";
/** The goal: node CPU per encrypt/decrypt at most this much above derive's. */
const GOAL_DELTA_MS = 0.1;
const OPS = ["derive", "encrypt", "decrypt"] as const;

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const say = (text: string) => process.stderr.write(`[keys] ${text}\n`);
const r2 = (n: number) => Math.round(n * 100) / 100;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

interface HttpSettings {
  /** Rounds of one phase per op; each phase measures durationMs / rounds. */
  rounds: number;
  /** Untimed load before each measured phase (the first pass has already warmed the JIT). */
  phaseWarmupMs: number;
  /** Plaintext size of encrypt (256 bytes by default, as the issue asks). */
  plaintextBytes: number;
}

/** One op's phases pooled: sums of ops, seconds and CPU; percentiles over every sample. */
interface Pooled {
  op: LoadOp;
  phases: PhaseResult[];
  ops: number;
  seconds: number;
  opsPerSec: number;
  nodeCpuMsPerOp: number;
  nodeSystemCpuMsPerOp: number;
  clientCpuMsPerOp: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  othersCpuPercent: number;
}

function pool(op: LoadOp, phases: PhaseResult[]): Pooled {
  const mine = phases.filter((p) => p.op === op);
  const sum = (f: (p: PhaseResult) => number) => mine.reduce((a, p) => a + f(p), 0);
  // Per-op values in PhaseResult are per max(ops, 1): undo that the same way.
  const n = (p: PhaseResult) => Math.max(p.ops, 1);
  const ops = sum((p) => p.ops);
  const seconds = sum((p) => p.seconds);
  const latencies = mine.flatMap((p) => p.latencies ?? []);
  return {
    op,
    phases: mine,
    ops,
    seconds,
    opsPerSec: ops / seconds,
    nodeCpuMsPerOp: sum((p) => p.nodeCpuMsPerOp * n(p)) / Math.max(ops, 1),
    nodeSystemCpuMsPerOp: sum((p) => p.nodeSystemCpuMsPerOp * n(p)) / Math.max(ops, 1),
    clientCpuMsPerOp: sum((p) => p.clientCpuMsPerOp * n(p)) / Math.max(ops, 1),
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    errors: sum((p) => p.errors),
    othersCpuPercent: sum((p) => p.othersCpuPercent * p.seconds) / seconds,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Node CPU per op minus derive's, round by round (a round a neighbour disturbed stands out). */
function roundDeltas(p: Pooled, derive: Pooled): number[] {
  return p.phases.map((x, i) => x.nodeCpuMsPerOp - (derive.phases[i]?.nodeCpuMsPerOp ?? Number.NaN));
}

async function httpPart(s: HttpBenchSettings, h: HttpSettings): Promise<Pooled[]> {
  // First an untimed pass over every op (results dropped): the node's JIT warms up on each code
  // path before anything is counted, so no measured phase is a cold one.
  const warmup: LoadPhase[] = OPS.map((op) => ({ op, warmupMs: s.warmupMs, durationMs: 1 }));
  const phaseMs = s.durationMs / h.rounds;
  const phases: LoadPhase[] = [...warmup];
  for (let r = 0; r < h.rounds; r++) {
    for (let k = 0; k < OPS.length; k++) {
      phases.push({ op: OPS[(r + k) % OPS.length]!, warmupMs: h.phaseWarmupMs, durationMs: phaseMs });
    }
  }
  const seconds = (OPS.length * (s.warmupMs + s.durationMs + h.rounds * h.phaseWarmupMs)) / 1000;
  let results: PhaseResult[] = [];
  await withKmsNode(s, async (node) => {
    say(
      `node serving; ${s.warmupMs / 1000} s warm-up per op, then ${h.rounds} round(s) of ` +
        `${OPS.length} ops × ${phaseMs / 1000} s (~${Math.round(seconds)} s)`,
    );
    results = await runLoad({
      target: node.target,
      concurrency: s.concurrency,
      client: s.client,
      keys: 1,
      valueBytes: 0,
      namedKey: { name: KEY_NAME, plaintextBytes: h.plaintextBytes },
      returnLatencies: true,
      phases,
    });
  });
  results = results.slice(warmup.length);
  for (const r of results) {
    if (r.errorSamples.length > 0)
      process.stderr.write(`${r.op} errors (first ${r.errorSamples.length}):\n  ${r.errorSamples.join("\n  ")}\n`);
  }
  const derive = pool("derive", results);
  const pooled = [pool("encrypt", results), pool("decrypt", results), derive];
  for (const p of pooled) printHttpLines(s, h, p, p.op === "derive" ? undefined : derive);
  return pooled;
}

function printHttpLines(s: HttpBenchSettings, h: HttpSettings, p: Pooled, derive: Pooled | undefined): void {
  const common = {
    concurrency: s.concurrency,
    client: s.client,
    ...(derive ? { plaintext_bytes: h.plaintextBytes } : { role: "same-run baseline of encrypt_* and decrypt_*" }),
    rounds: p.phases.length,
    seconds: Math.round(p.seconds * 10) / 10,
    others_cpu_pct: Math.round(p.othersCpuPercent),
  };
  const line = (metric: string, value: number, unit: string, baseline: number | undefined, extra = {}) =>
    printResult({
      bench: BENCH,
      metric: `${p.op}_${metric}`,
      value,
      unit,
      baseline: baseline ?? null,
      ...(baseline !== undefined ? { baseline_metric: `derive_${metric}` } : {}),
      ...extra,
      ...common,
    });
  line("ops_per_sec", p.opsPerSec, "ops/s", derive?.opsPerSec, { ops: p.ops, errors: p.errors });
  line("node_cpu_ms_per_op", p.nodeCpuMsPerOp, "ms", derive?.nodeCpuMsPerOp, {
    node_system_ms: r3(p.nodeSystemCpuMsPerOp),
    ...(derive
      ? {
          delta_ms: r3(p.nodeCpuMsPerOp - derive.nodeCpuMsPerOp),
          median_round_delta_ms: r3(median(roundDeltas(p, derive))),
          goal_delta_ms: GOAL_DELTA_MS,
        }
      : {}),
    // Each round on its own, to see how far the neighbours moved it.
    per_round_ms: p.phases.map((x) => r3(x.nodeCpuMsPerOp)),
    per_round_others_pct: p.phases.map((x) => Math.round(x.othersCpuPercent)),
  });
  line("client_cpu_ms_per_op", p.clientCpuMsPerOp, "ms", derive?.clientCpuMsPerOp);
  line("latency_p50_ms", p.latencyP50Ms, "ms", derive?.latencyP50Ms);
  line("latency_p99_ms", p.latencyP99Ms, "ms", derive?.latencyP99Ms);
  line("errors", p.errors, "count", derive?.errors);
}

interface Line {
  metric: string;
  value: number;
  baseline: number | null;
  unit: string;
  [k: string]: unknown;
}

/** Runs bench/keys/in-process.ts (a fresh heap, gc exposed); passes its result lines through. */
async function inProcessPart(args: string[]): Promise<Line[]> {
  const child = spawnChild(
    "keys in-process",
    process.execPath,
    ["--expose-gc", "--import", "tsx", path.join(REPO_ROOT, "bench/keys/in-process.ts"), ...args],
    { cwd: REPO_ROOT },
  );
  const lines: Line[] = [];
  child.onLine((l) => {
    if (!l.startsWith('{"bench"')) return;
    process.stdout.write(`${l}\n`);
    lines.push(JSON.parse(l) as Line);
  });
  child.process.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  const code = await child.exited;
  if (code !== 0) throw new Error(`bench/keys/in-process.ts failed (exit ${code})`);
  return lines;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}

function summary(h: HttpSettings, http: Pooled[] | undefined, inproc: Line[] | undefined): string {
  const out: string[] = [];
  if (http) {
    const derive = http.find((p) => p.op === "derive")!;
    const rows = [
      [
        "op",
        "ops/s",
        "node CPU ms/op (sys)",
        "Δ vs derive",
        "median round Δ",
        "client ms/op",
        "p50 ms",
        "p99 ms",
        "errors",
        "others %",
      ],
    ];
    for (const p of http) {
      const isBaseline = p.op === "derive";
      const signed = (d: number) => `${d >= 0 ? "+" : ""}${r3(d)}`;
      rows.push([
        p.op,
        String(Math.round(p.opsPerSec)),
        `${r3(p.nodeCpuMsPerOp)} (${r3(p.nodeSystemCpuMsPerOp)})`,
        isBaseline ? "baseline" : signed(p.nodeCpuMsPerOp - derive.nodeCpuMsPerOp),
        isBaseline ? "" : signed(median(roundDeltas(p, derive))),
        String(r3(p.clientCpuMsPerOp)),
        String(r2(p.latencyP50Ms)),
        String(r2(p.latencyP99Ms)),
        String(p.errors),
        String(Math.round(p.othersCpuPercent)),
      ]);
    }
    out.push(`end to end, ${h.plaintextBytes}-byte plaintexts (goal: Δ ≤ ${GOAL_DELTA_MS} ms)`, table(rows));
  }
  if (inproc) {
    const rows = [["in-process", "value", "unit", "baseline", "baseline is"]];
    for (const l of inproc) {
      rows.push([l.metric, String(l.value), l.unit, String(l.baseline ?? "–"), String(l.baseline_metric ?? "")]);
    }
    out.push("", table(rows));
  }
  return out.join("\n");
}

runMain(async () => {
  const s = readSettings("npx tsx bench/keys.ts [flags]", {
    rounds: {
      default: env("KEYS_BENCH_ROUNDS", "5"),
      help: "phases per op; each measures duration/rounds seconds (env KEYS_BENCH_ROUNDS)",
    },
    "phase-warmup": {
      default: env("KEYS_BENCH_PHASE_WARMUP", "0.5"),
      help: "seconds of untimed load before each measured phase; --warmup is the first pass per op",
    },
    part: { default: env("KEYS_BENCH_PART", "all"), help: "all, http or in-process (env KEYS_BENCH_PART)" },
    "plaintext-bytes": {
      default: env("KEYS_BENCH_PLAINTEXT_BYTES", "256"),
      help: "plaintext size of encrypt, end to end and in process (env KEYS_BENCH_PLAINTEXT_BYTES)",
    },
    keys: {
      default: env("KEYS_BENCH_KEYS", "100000"),
      help: "in-process: keys created for the memory figure (env KEYS_BENCH_KEYS)",
    },
    apps: {
      default: env("KEYS_BENCH_APPS", "10"),
      help: "in-process: apps the keys are spread over (env KEYS_BENCH_APPS)",
    },
    rotate: {
      default: env("KEYS_BENCH_ROTATE", "10000"),
      help: "in-process: keys rotated once (env KEYS_BENCH_ROTATE)",
    },
    "baseline-keys": {
      default: env("KEYS_BENCH_BASELINE_KEYS", "20000"),
      help: "in-process: keys of the bare-store put baseline (env KEYS_BENCH_BASELINE_KEYS)",
    },
  });
  const { part } = s.extra;
  if (part !== "all" && part !== "http" && part !== "in-process")
    throw new Error(`--part must be all, http or in-process, got ${part}`);
  // --duration is a shared flag (bench/load/http-bench.ts); its environment default lives here.
  if (process.env.KEYS_BENCH_DURATION && !process.argv.some((a) => a.startsWith("--duration")))
    s.durationMs = positiveNumber(process.env.KEYS_BENCH_DURATION, "duration (KEYS_BENCH_DURATION)") * 1000;
  const phaseWarmupSeconds = Number(s.extra["phase-warmup"]);
  if (!(phaseWarmupSeconds >= 0)) throw new Error(`--phase-warmup must be ≥ 0, got ${s.extra["phase-warmup"]}`);
  const h: HttpSettings = {
    rounds: Math.round(positiveNumber(s.extra.rounds, "rounds")),
    phaseWarmupMs: phaseWarmupSeconds * 1000,
    plaintextBytes: Math.round(positiveNumber(s.extra["plaintext-bytes"], "plaintext-bytes")),
  };

  const http = part === "in-process" ? undefined : await httpPart(s, h);
  const inproc =
    part === "http"
      ? undefined
      : await inProcessPart([
          "--keys",
          s.extra.keys,
          "--apps",
          s.extra.apps,
          "--rotate",
          s.extra.rotate,
          "--baseline-keys",
          s.extra["baseline-keys"],
          "--plaintext-bytes",
          String(h.plaintextBytes),
        ]);
  process.stderr.write(`\n${summary(h, http, inproc)}\n`);
});
