// Authenticated /kms/derive through the whole protocol (DESIGN.md "Performance"): one node in its
// own process on a dev chain, a load generator in another (concurrency 32, each operation = GET
// /nonce + signed, sealed POST /kms/derive + response signature checked + response decrypted), and
// in the same run the baseline: a plain hono JSON echo server loaded by autocannon.
// Lines: ops_per_sec, node_cpu_ms_per_op, client_cpu_ms_per_op, latency_p50_ms, latency_p99_ms,
// ratio_to_baseline (see bench/README.md).
// Run: npx tsx bench/derive.ts [--duration 10] [--warmup 2] [--concurrency 32] [--client direct|sdk] [--cpu-prof DIR]
import { printResult } from "./lib/result.js";
import { printAgainstEcho } from "./load/echo-results.js";
import { readSettings, runMain, withBenchNode } from "./load/http-bench.js";
import { runLoad } from "./load/run-load.js";

const BENCH = "derive";
// DESIGN.md targets on the 2-core bench machine.
const TARGET_OPS_PER_SEC = 1_200;
const TARGET_NODE_CPU_MS = 0.6;
const GOAL_NODE_CPU_MS = 0.3;

runMain(async () => {
  const s = readSettings("npx tsx bench/derive.ts [flags]");
  await withBenchNode(s, async (node, baseline) => {
    const [r] = await runLoad({
      target: node.target,
      concurrency: s.concurrency,
      client: s.client,
      keys: 1,
      valueBytes: 0,
      phases: [{ op: "derive", warmupMs: s.warmupMs, durationMs: s.durationMs }],
    });
    if (!r) throw new Error("no result from the load generator");
    if (r.errorSamples.length > 0)
      process.stderr.write(`derive errors (first ${r.errorSamples.length}):\n  ${r.errorSamples.join("\n  ")}\n`);
    const common = {
      concurrency: s.concurrency,
      client: s.client,
      seconds: Math.round(r.seconds * 10) / 10,
      others_cpu_pct: Math.round(r.othersCpuPercent),
    };
    printAgainstEcho(r, baseline, {
      bench: BENCH,
      common,
      extra: {
        ops_per_sec: { target: TARGET_OPS_PER_SEC },
        node_cpu_ms_per_op: { target: TARGET_NODE_CPU_MS, goal: GOAL_NODE_CPU_MS },
      },
    });
    printResult({
      bench: BENCH,
      metric: "ratio_to_baseline",
      value: (100 * r.opsPerSec) / baseline.reqPerSec,
      unit: "%",
      baseline: 100,
      baseline_metric: "hono_echo_req_per_sec",
      ...common,
    });
    printResult({
      bench: BENCH,
      metric: "errors",
      value: r.errors,
      unit: "count",
      baseline: baseline.errors,
      baseline_metric: "hono_echo_errors",
      ...common,
    });
  });
});
