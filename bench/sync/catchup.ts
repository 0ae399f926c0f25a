// Phase 2 of bench/sync.ts: how long a node that missed N writes takes to hold them all.
//   pause:   C is SIGSTOPped (a hung or partitioned node), N keys are written to A, C is continued;
//            timed from SIGCONT to the first list on C that contains all N.
//   restart: C is SIGKILLed, N more keys are written to A, C is started again at the same port
//            (same registered URL, empty memory); timed from the spawn to the first list on C that
//            contains every key A holds (everything, not only the N: it restarted empty).
// The baseline, in the same run, is how long A took to accept those N writes.
import { waitForServing, type NodeProcess } from "../../scripts/cluster/index.js";
import { openAppChannel, type AppChannel } from "../load/app-channel.js";
import { SERVING_TIMEOUT_MS, type SyncCluster } from "./cluster.js";
import { listKeys, waitForList } from "./list-watch.js";
import { keyName, wallClockMs } from "./shared.js";
import { ackedCount, runWriter, writerSeconds } from "./writes.js";
import type { WriterResult } from "./writer.js";

export interface CatchupSettings {
  keys: number;
  concurrency: number;
  valueBytes: number;
  pollIntervalMs: number;
  timeoutMs: number;
}

export interface CatchupResult {
  catchupSeconds: number;
  writeSeconds: number;
  writes: number;
  writeErrors: number;
  /** Keys C had to end up with. */
  expectedKeys: number;
  /** Restart only: spawn → GET /health answers, and → /status node.service_available. */
  healthSeconds?: number;
  servingSeconds?: number;
}

const ackedKeys = (prefix: string, w: WriterResult): string[] =>
  w.ackedAtMs.flatMap((t, i) => (t === null ? [] : [keyName(prefix, i)]));

function writeJob(cluster: SyncCluster, a: NodeProcess, prefix: string, s: CatchupSettings) {
  return { target: cluster.target(a), prefix, concurrency: s.concurrency, valueBytes: s.valueBytes, count: s.keys };
}

function containsAll(expected: readonly string[]): {
  done: (keys: string[]) => boolean;
  describe: (keys: string[]) => string;
} {
  const want = new Set(expected);
  const have = (keys: string[]) => keys.reduce((n, k) => (want.has(k) ? n + 1 : n), 0);
  return { done: (keys) => have(keys) === want.size, describe: (keys) => `${have(keys)} of ${want.size} keys` };
}

export async function catchupAfterPause(
  cluster: SyncCluster,
  a: NodeProcess,
  c: NodeProcess,
  cChannel: AppChannel,
  s: CatchupSettings,
): Promise<CatchupResult> {
  const prefix = "pause/";
  let writes: WriterResult;
  c.pause();
  try {
    writes = await runWriter(writeJob(cluster, a, prefix, s));
  } finally {
    c.resume();
  }
  const resumedAt = wallClockMs();
  const expected = ackedKeys(prefix, writes);
  const check = containsAll(expected);
  const doneAt = await waitForList(cChannel, check.done, {
    intervalMs: s.pollIntervalMs,
    timeoutMs: s.timeoutMs,
    what: `C to hold the ${expected.length} keys written while it was paused`,
    describe: check.describe,
  });
  return {
    catchupSeconds: (doneAt - resumedAt) / 1000,
    writeSeconds: writerSeconds(writes),
    writes: ackedCount(writes),
    writeErrors: writes.errors,
    expectedKeys: expected.length,
  };
}

/** Returns the restarted C too: the caller owns it from here (the cluster stops it at the end). */
export async function catchupAfterRestart(
  cluster: SyncCluster,
  a: NodeProcess,
  aChannel: AppChannel,
  c: NodeProcess,
  s: CatchupSettings,
): Promise<{ result: CatchupResult; restarted: NodeProcess }> {
  await c.kill();
  const writes = await runWriter(writeJob(cluster, a, "restart/", s));
  const expected = await listKeys(aChannel);
  const check = containsAll(expected);

  const spawnedAt = wallClockMs();
  const restarted = await cluster.restart(c);
  const healthAt = wallClockMs();
  await waitForServing(restarted.url, SERVING_TIMEOUT_MS);
  const servingAt = wallClockMs();
  const channel = await openAppChannel(cluster.target(restarted), 2, "direct");
  try {
    const doneAt = await waitForList(channel, check.done, {
      intervalMs: s.pollIntervalMs,
      timeoutMs: s.timeoutMs,
      what: `restarted C to hold all ${expected.length} keys A holds`,
      describe: check.describe,
    });
    return {
      restarted,
      result: {
        catchupSeconds: (doneAt - spawnedAt) / 1000,
        writeSeconds: writerSeconds(writes),
        writes: ackedCount(writes),
        writeErrors: writes.errors,
        expectedKeys: expected.length,
        healthSeconds: (healthAt - spawnedAt) / 1000,
        servingSeconds: (servingAt - spawnedAt) / 1000,
      },
    };
  } finally {
    await channel.close();
  }
}
