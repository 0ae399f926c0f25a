// Authenticated KV through the whole protocol: PUT ops/s (64-byte values cycling over 10,000 keys),
// then GET ops/s reading back keys the PUT phase wrote; p99 latency and node CPU per op for each.
// Same setup and same-run baseline as bench/derive.ts (hono JSON echo under autocannon).
// Lines: put_ops_per_sec, put_latency_p99_ms, put_node_cpu_ms_per_op, put_client_cpu_ms_per_op, and
// the same for get_ (see bench/README.md).
// Run: npx tsx bench/kv.ts [--duration 10] [--warmup 2] [--concurrency 32] [--client direct|sdk] [--cpu-prof DIR]
import { printAgainstEcho } from "./load/echo-results.js";
import { readSettings, runMain, withBenchNode } from "./load/http-bench.js";
import { runLoad } from "./load/run-load.js";

const BENCH = "kv";
const KEYS = 10_000;
const VALUE_BYTES = 64;

runMain(async () => {
  const s = readSettings("npx tsx bench/kv.ts [flags]");
  await withBenchNode(s, async (node, baseline) => {
    const results = await runLoad({
      target: node.target,
      concurrency: s.concurrency,
      client: s.client,
      keys: KEYS,
      valueBytes: VALUE_BYTES,
      phases: [
        { op: "put", warmupMs: s.warmupMs, durationMs: s.durationMs },
        { op: "get", warmupMs: s.warmupMs, durationMs: s.durationMs },
      ],
    });
    for (const r of results) {
      if (r.errorSamples.length > 0)
        process.stderr.write(`${r.op} errors (first ${r.errorSamples.length}):\n  ${r.errorSamples.join("\n  ")}\n`);
      const common = {
        concurrency: s.concurrency,
        client: s.client,
        keys: KEYS,
        value_bytes: VALUE_BYTES,
        seconds: Math.round(r.seconds * 10) / 10,
        others_cpu_pct: Math.round(r.othersCpuPercent),
      };
      printAgainstEcho(r, baseline, { bench: BENCH, prefix: `${r.op}_`, common });
    }
  });
});
