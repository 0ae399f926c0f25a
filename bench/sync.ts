// Replication between three KMS node processes (DESIGN.md "Performance", bench/sync):
//   1. lag under write load: a writer process PUTs new 64-byte keys to node A (concurrency 8, or
//      paced with --rate); B and C are polled with GET /kms/data (their key list) every
//      --poll-interval ms; lag = first seen on B/C − acknowledged by A. Baseline: the configured
//      DATA_SYNC_INTERVAL_MS, since a push round starts at most that long after a write.
//      write_ops_per_sec is the writer's rate in that phase; its baseline is the rate at which A took
//      the pause phase's writes (same concurrency, no polling), or the --rate asked for.
//   2. catch-up of a node that missed 10,000 writes: C paused (SIGSTOP) while they are written, then
//      continued; and C killed, the writes made, C restarted empty at the same port. Baseline: how
//      long A took to accept those writes, in the same run.
// Lines: sync_lag_p50_ms, sync_lag_p99_ms, write_ops_per_sec, catchup_after_pause_10k_s,
// catchup_after_restart_10k_s (see bench/README.md). Progress goes to stderr.
// Run: npx tsx bench/sync.ts [--duration 10] [--rate N] [--sync-interval 200] [--keys 10000]
import type { NodeProcess } from "../scripts/cluster/index.js";
import { parseFlags, positiveNumber } from "./lib/args.js";
import { printResult } from "./lib/result.js";
import { openAppChannel, type AppChannel } from "./load/app-channel.js";
import { runMain } from "./load/http-bench.js";
import type { LoadTarget } from "./load/kms-node.js";
import { catchupAfterPause, catchupAfterRestart, type CatchupResult } from "./sync/catchup.js";
import { startSyncCluster } from "./sync/cluster.js";
import { measureLag, type LagResult } from "./sync/lag.js";

const BENCH = "sync";
const VALUE_BYTES = 64;

const say = (text: string) => process.stderr.write(`[sync] ${text}\n`);
const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

function readSettings() {
  const f = parseFlags(
    process.argv.slice(2),
    {
      duration: { default: "10", help: "seconds of measured write load in the lag phase (after the warm-up)" },
      warmup: { default: "1", help: "seconds of write load before the lag measurement starts" },
      rate: {
        default: "",
        help: "writes per second to pace the lag writer at (default: as fast as --concurrency allows)",
      },
      concurrency: { default: "8", help: "writer loops in the lag phase" },
      "sync-interval": { default: "200", help: "DATA_SYNC_INTERVAL_MS of the nodes" },
      "poll-interval": { default: "50", help: "ms between list polls of B and C in the lag phase" },
      keys: { default: "10000", help: "writes a node misses in the catch-up phases" },
      // The lag phase's concurrency by default, so the pause phase's write rate is a fair baseline for it.
      "catchup-concurrency": { default: "", help: "writer loops in the catch-up phases (default: --concurrency)" },
    },
    "npx tsx bench/sync.ts [flags]",
  );
  return {
    durationMs: positiveNumber(f.duration, "duration") * 1000,
    warmupMs: Number(f.warmup) >= 0 ? Number(f.warmup) * 1000 : 1000,
    rate: f.rate ? positiveNumber(f.rate, "rate") : undefined,
    concurrency: Math.round(positiveNumber(f.concurrency, "concurrency")),
    syncIntervalMs: Math.round(positiveNumber(f["sync-interval"], "sync-interval")),
    pollIntervalMs: positiveNumber(f["poll-interval"], "poll-interval"),
    keys: Math.round(positiveNumber(f.keys, "keys")),
    catchupConcurrency: Math.round(positiveNumber(f["catchup-concurrency"] || f.concurrency, "catchup-concurrency")),
  };
}
type Settings = ReturnType<typeof readSettings>;

function printLag(s: Settings, lag: LagResult, paused: CatchupResult): void {
  const common = {
    sync_interval_ms: s.syncIntervalMs,
    poll_interval_ms: s.pollIntervalMs,
    mean_poll_ms: r1(lag.perNode.reduce((sum, n) => sum + n.meanPollMs, 0) / lag.perNode.length),
    others_cpu_pct: Math.round(lag.othersCpuPercent),
    samples: lag.all.samples,
    missing: lag.all.missing,
    concurrency: s.concurrency,
    rate: s.rate ?? null,
  };
  for (const p of ["p50", "p99"] as const) {
    const perNode = Object.fromEntries(lag.perNode.map((n) => [`${n.seed}_${p}_ms`, r1(n[p])]));
    printResult({
      bench: BENCH,
      metric: `sync_lag_${p}_ms`,
      value: lag.all[p],
      unit: "ms",
      baseline: s.syncIntervalMs,
      baseline_metric: "data_sync_interval_ms",
      ...perNode,
      ...common,
    });
  }
  const cpu = Object.fromEntries(
    Object.entries(lag.nodeCpuMsPerWrite).map(([seed, ms]) => [`${seed}_cpu_ms_per_write`, r3(ms)]),
  );
  printResult({
    bench: BENCH,
    metric: "write_ops_per_sec",
    value: lag.writeOpsPerSec,
    unit: "ops/s",
    // With --rate the requested rate is the yardstick. Unpaced: the rate at which A took the
    // pause phase's writes in this run (same writer and concurrency, nobody polling, C stopped).
    baseline: s.rate ?? paused.writes / paused.writeSeconds,
    baseline_metric: s.rate !== undefined ? "requested_rate" : "a_write_ops_per_sec_unpolled_c_paused",
    ops: lag.writes,
    errors: lag.writeErrors,
    seconds: r1(lag.seconds),
    ...cpu,
    others_cpu_pct: Math.round(lag.othersCpuPercent),
    concurrency: s.concurrency,
  });
}

function printCatchup(s: Settings, variant: "pause" | "restart", r: CatchupResult): void {
  const n = s.keys % 1000 === 0 ? `${s.keys / 1000}k` : String(s.keys);
  printResult({
    bench: BENCH,
    metric: `catchup_after_${variant}_${n}_s`,
    value: r.catchupSeconds,
    unit: "s",
    baseline: r.writeSeconds,
    baseline_metric: `a_accepts_${n}_writes_s`,
    writes: r.writes,
    errors: r.writeErrors,
    expected_keys: r.expectedKeys,
    ...(r.healthSeconds !== undefined ? { health_s: r1(r.healthSeconds) } : {}),
    ...(r.servingSeconds !== undefined ? { serving_s: r1(r.servingSeconds) } : {}),
    sync_interval_ms: s.syncIntervalMs,
    concurrency: s.catchupConcurrency,
  });
}

runMain(async () => {
  const s = readSettings();
  say(
    `DATA_SYNC_INTERVAL_MS=${s.syncIntervalMs} (bench setting; the node default is 2000), rate limits off, KMS_NODE_TICK_MS=1000`,
  );
  say("starting a dev chain and 3 node processes ...");
  const cluster = await startSyncCluster({ syncIntervalMs: s.syncIntervalMs, seeds: ["sync-a", "sync-b", "sync-c"] });
  const channels: AppChannel[] = [];
  const open = async (target: LoadTarget) => {
    const ch = await openAppChannel(target, 2, "direct");
    channels.push(ch);
    return ch;
  };
  try {
    const [a, b, c] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    const [aCh, bCh, cCh] = (await Promise.all([a, b, c].map((n) => open(cluster.target(n))))) as [
      AppChannel,
      AppChannel,
      AppChannel,
    ];
    const catchup = {
      keys: s.keys,
      concurrency: s.catchupConcurrency,
      valueBytes: VALUE_BYTES,
      pollIntervalMs: 100,
      timeoutMs: 300_000,
    };

    say(
      `lag: writing to A for ${(s.warmupMs + s.durationMs) / 1000} s (first ${s.warmupMs / 1000} s not counted), polling B and C every ${s.pollIntervalMs} ms ...`,
    );
    const lag = await measureLag(
      cluster,
      a,
      [
        { node: b, channel: bCh },
        { node: c, channel: cCh },
      ],
      {
        durationMs: s.durationMs,
        warmupMs: s.warmupMs,
        concurrency: s.concurrency,
        rate: s.rate,
        valueBytes: VALUE_BYTES,
        pollIntervalMs: s.pollIntervalMs,
        settleTimeoutMs: 60_000,
      },
    );
    for (const n of lag.perNode)
      say(
        `  ${n.seed}: ${n.samples} samples, ${n.missing} never seen, p50 ${r1(n.p50)} ms, p99 ${r1(n.p99)} ms, max ${r1(n.max)} ms; ${n.polls} polls, ${r1(n.meanPollMs)} ms each`,
      );

    say(`catch-up: C paused while ${s.keys} keys are written to A ...`);
    const paused = await catchupAfterPause(cluster, a, c, cCh, catchup);
    // Printed here because its baseline comes from the pause phase.
    printLag(s, lag, paused);
    printCatchup(s, "pause", paused);

    say(`catch-up: C killed while ${s.keys} more keys are written to A, then restarted empty ...`);
    const restart = await catchupAfterRestart(cluster, a, aCh, c, catchup);
    printCatchup(s, "restart", restart.result);
  } finally {
    await Promise.allSettled(channels.map((ch) => ch.close()));
    say("stopping the nodes and the chain ...");
    await cluster.stop();
  }
});
