// What the write quorum costs: authenticated KV PUT on a 3-node process cluster with WRITE_QUORUM
// 1, 2 and all, one cluster per setting, in the same run; the baseline of each line is quorum 1's
// figure (goal: quorum 2 keeps ≥ 70 % of quorum 1's throughput at concurrency 32). Writes go to
// one node; the other two are its replicas. Same load generator as bench/kv.ts.
// Lines: put_ops_per_sec, put_latency_p50_ms, put_latency_p99_ms per quorum (field write_quorum).
// Run: npx tsx bench/kv-quorum.ts [--duration 10] [--warmup 2] [--concurrency 32] [--client direct|sdk]
import { printResult } from "./lib/result.js";
import { readSettings, runMain } from "./load/http-bench.js";
import { runLoad } from "./load/run-load.js";
import type { PhaseResult } from "./load/kms-load.js";
import { startSyncCluster } from "./sync/cluster.js";

const BENCH = "kv_quorum";
const KEYS = 10_000;
const VALUE_BYTES = 64;
const SETTINGS = ["1", "2", "all"] as const;

runMain(async () => {
  const s = readSettings("npx tsx bench/kv-quorum.ts [flags]");
  const results = new Map<string, PhaseResult>();
  for (const quorum of SETTINGS) {
    process.stderr.write(`write quorum ${quorum}: starting 3 nodes ...\n`);
    const cluster = await startSyncCluster({
      // Replication rounds as in production; the quorum pushes on its own after each write.
      syncIntervalMs: 2_000,
      seeds: ["kvq-a", "kvq-b", "kvq-c"],
      env: { WRITE_QUORUM: quorum },
    });
    try {
      const [put] = await runLoad({
        target: cluster.target(cluster.nodes[0]!),
        concurrency: s.concurrency,
        client: s.client,
        keys: KEYS,
        valueBytes: VALUE_BYTES,
        phases: [{ op: "put", warmupMs: s.warmupMs, durationMs: s.durationMs }],
      });
      if (put!.errorSamples.length > 0) process.stderr.write(`errors: ${put!.errorSamples.join("\n  ")}\n`);
      results.set(quorum, put!);
    } finally {
      await cluster.stop();
    }
  }
  const base = results.get("1")!;
  for (const [quorum, r] of results) {
    const common = {
      write_quorum: quorum,
      concurrency: s.concurrency,
      client: s.client,
      ops: r.ops,
      errors: r.errors,
      seconds: Math.round(r.seconds * 10) / 10,
      others_cpu_pct: Math.round(r.othersCpuPercent),
    };
    const line = (metric: string, value: number, unit: string, baseline: number) =>
      printResult({ bench: BENCH, metric, value, unit, baseline, baseline_metric: `quorum_1_${metric}`, ...common });
    line("put_ops_per_sec", r.opsPerSec, "ops/s", base.opsPerSec);
    line("put_latency_p50_ms", r.latencyP50Ms, "ms", base.latencyP50Ms);
    line("put_latency_p99_ms", r.latencyP99Ms, "ms", base.latencyP99Ms);
  }
});
