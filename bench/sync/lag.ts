// Phase 1 of bench/sync.ts: replication lag under a steady write load. The writer process PUTs new
// keys to node A and records when A acknowledged each; list watchers on B and C note when each key
// first appears there. Lag = first seen on B (or C) − acknowledged by A, one sample per key and node.
import { availableParallelism } from "node:os";
import type { NodeProcess } from "../../scripts/cluster/index.js";
import { percentile } from "../lib/percentile.js";
import { machineBusyCpuMs, ownCpuMs, processCpuMs } from "../lib/proc-cpu.js";
import type { AppChannel } from "../load/app-channel.js";
import type { SyncCluster } from "./cluster.js";
import { watchList } from "./list-watch.js";
import { keyName, wallClockMs } from "./shared.js";
import type { WriterResult } from "./writer.js";
import { runWriter } from "./writes.js";

export interface LagSettings {
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  rate: number | undefined;
  valueBytes: number;
  pollIntervalMs: number;
  /** How long to keep watching after the last write for keys not yet seen everywhere. */
  settleTimeoutMs: number;
}

export interface NodeLag {
  seed: string;
  samples: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
  polls: number;
  meanPollMs: number;
  pollErrors: number;
}

export interface LagResult {
  all: { samples: number; missing: number; p50: number; p99: number };
  perNode: NodeLag[];
  writes: number;
  writeErrors: number;
  seconds: number;
  writeOpsPerSec: number;
  /** Node CPU per counted write over the whole writer run (A does the writes, B and C merge them). */
  nodeCpuMsPerWrite: Record<string, number>;
  /** Share of the machine (all cores, %) used by processes outside this bench while the writer ran. */
  othersCpuPercent: number;
}

const PREFIX = "lag/";

export async function measureLag(
  cluster: SyncCluster,
  writerNode: NodeProcess,
  watched: Array<{ node: NodeProcess; channel: AppChannel }>,
  s: LagSettings,
): Promise<LagResult> {
  const watches = watched.map((w) => ({ node: w.node, watch: watchList(w.channel, PREFIX, s.pollIntervalMs) }));
  const cpuNodes = [writerNode, ...watched.map((w) => w.node)];
  let writes: WriterResult;
  let cpuMs: number[];
  let othersCpuPercent: number;
  const cpu0 = cpuNodes.map((n) => processCpuMs(n.pid));
  const own0 = ownCpuMs();
  const anvil0 = processCpuMs(cluster.chain.anvil.pid);
  const machine0 = machineBusyCpuMs();
  const wall0 = wallClockMs();
  try {
    writes = await runWriter({
      target: cluster.target(writerNode),
      prefix: PREFIX,
      concurrency: s.concurrency,
      valueBytes: s.valueBytes,
      durationMs: s.warmupMs + s.durationMs,
      ...(s.rate !== undefined ? { rate: s.rate } : {}),
    });
    const machineMs = machineBusyCpuMs() - machine0;
    cpuMs = cpuNodes.map((n, i) => processCpuMs(n.pid) - (cpu0[i] as number));
    // What the neighbours on this shared machine took meanwhile: busy time minus every process of
    // this bench (nodes, writer, this process with its pollers, anvil).
    const oursMs =
      cpuMs.reduce((a, b) => a + b, 0) +
      writes.cpuMs +
      (ownCpuMs() - own0) +
      (processCpuMs(cluster.chain.anvil.pid) - anvil0);
    othersCpuPercent = Math.max(0, (100 * (machineMs - oursMs)) / ((wallClockMs() - wall0) * availableParallelism()));
    // Keep watching until every acknowledged key is visible on every watched node (or give up).
    const acked = writes.ackedAtMs.flatMap((t, i) => (t === null ? [] : [keyName(PREFIX, i)]));
    const deadline = wallClockMs() + s.settleTimeoutMs;
    while (wallClockMs() < deadline && !watches.every((w) => acked.every((k) => w.watch.firstSeen.has(k)))) {
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await Promise.all(watches.map((w) => w.watch.stop()));
  }

  // Samples only for writes acknowledged after the warm-up (connections, JIT on all three nodes).
  const measureFrom = writes.startedAtMs + s.warmupMs;
  const counted = writes.ackedAtMs.flatMap((t, i) =>
    t !== null && t >= measureFrom ? [{ key: keyName(PREFIX, i), ackedAt: t }] : [],
  );
  const all: number[] = [];
  let allMissing = 0;
  const perNode = watches.map(({ node, watch }) => {
    const lags: number[] = [];
    let missing = 0;
    for (const { key, ackedAt } of counted) {
      const seen = watch.firstSeen.get(key);
      if (seen === undefined) missing++;
      else lags.push(seen - ackedAt);
    }
    all.push(...lags);
    allMissing += missing;
    const st = watch.stats();
    return {
      seed: node.seed,
      samples: lags.length,
      missing,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: percentile(lags, 100),
      polls: st.polls,
      meanPollMs: st.meanPollMs,
      pollErrors: st.errors,
    };
  });
  const seconds = (writes.endedAtMs - measureFrom) / 1000;
  const nodeCpuMsPerWrite: Record<string, number> = {};
  const totalAcked = writes.ackedAtMs.filter((t) => t !== null).length;
  cpuNodes.forEach((n, i) => {
    nodeCpuMsPerWrite[n.seed] = (cpuMs[i] as number) / Math.max(totalAcked, 1);
  });
  return {
    all: { samples: all.length, missing: allMissing, p50: percentile(all, 50), p99: percentile(all, 99) },
    perNode,
    writes: counted.length,
    writeErrors: writes.errors,
    seconds,
    writeOpsPerSec: counted.length / seconds,
    nodeCpuMsPerWrite,
    othersCpuPercent,
  };
}
