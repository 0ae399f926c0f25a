// The result lines every HTTP benchmark prints for one load phase against the in-run echo baseline
// (DESIGN.md "Performance"): ops/s, node and client CPU per op, p50/p99 latency. Each benchmark adds
// its own extra fields (targets, key counts) through `extra`.
import { printResult } from "../lib/result.js";
import type { EchoBaseline } from "./baseline.js";
import type { PhaseResult } from "./kms-load.js";

type Metric = "ops_per_sec" | "node_cpu_ms_per_op" | "client_cpu_ms_per_op" | "latency_p50_ms" | "latency_p99_ms";

export interface EchoResultOptions {
  bench: string;
  /** Metric name prefix (e.g. "put_"), "" for a single-op benchmark. */
  prefix?: string;
  /** Fields on every line (concurrency, client, …). */
  common: Record<string, unknown>;
  /** Fields for one metric only (targets, goals). */
  extra?: Partial<Record<Metric, Record<string, unknown>>>;
}

export function printAgainstEcho(r: PhaseResult, baseline: EchoBaseline, options: EchoResultOptions): void {
  const { bench, prefix = "", common, extra = {} } = options;
  const line = (metric: Metric, value: number, unit: string, base: number | null, baseMetric?: string, own = {}) =>
    printResult({
      bench,
      metric: `${prefix}${metric}`,
      value,
      unit,
      baseline: base,
      ...(baseMetric ? { baseline_metric: baseMetric } : {}),
      ...own,
      ...extra[metric],
      ...common,
    });
  line("ops_per_sec", r.opsPerSec, "ops/s", baseline.reqPerSec, "hono_echo_req_per_sec", {
    ops: r.ops,
    errors: r.errors,
  });
  line("node_cpu_ms_per_op", r.nodeCpuMsPerOp, "ms", baseline.serverCpuMsPerReq, "hono_echo_server_cpu_ms_per_req", {
    node_system_ms: Math.round(r.nodeSystemCpuMsPerOp * 1000) / 1000,
  });
  line("client_cpu_ms_per_op", r.clientCpuMsPerOp, "ms", null);
  line("latency_p50_ms", r.latencyP50Ms, "ms", baseline.latencyP50Ms, "hono_echo_latency_p50_ms");
  line("latency_p99_ms", r.latencyP99Ms, "ms", baseline.latencyP99Ms, "hono_echo_latency_p99_ms");
}
