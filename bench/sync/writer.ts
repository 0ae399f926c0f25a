// Writer process for bench/sync.ts: PUTs new keys `<prefix><index>` to one node, each with a
// 64-byte value, from `concurrency` loops, and records the wall-clock time at which the node
// acknowledged each one. It runs in its own process so its client-side crypto is neither charged to
// a node nor stalls the orchestrator's pollers. Prints one JSON line `{"writes": WriterResult}`.
// Run by bench/sync/writes.ts: node --import tsx bench/sync/writer.ts '<WriterJob JSON>'
import { randomBytes } from "node:crypto";
import { bytesToBase64 } from "../../enclave/crypto/bytes.js";
import { ownCpuMs } from "../lib/proc-cpu.js";
import { openAppChannel } from "../load/app-channel.js";
import type { LoadTarget } from "../load/kms-node.js";
import { keyName, wallClockMs } from "./shared.js";

export interface WriterJob {
  target: LoadTarget;
  prefix: string;
  concurrency: number;
  valueBytes: number;
  /** Stop after this many keys... */
  count?: number;
  /** ...or after this long (whichever is given; count wins when both are). */
  durationMs?: number;
  /** Overall writes per second to pace at; unset = as fast as the loops go. */
  rate?: number;
}

export interface WriterResult {
  /** Acknowledgement time (wallClockMs) per key index; null when that write failed or was not made. */
  ackedAtMs: Array<number | null>;
  startedAtMs: number;
  endedAtMs: number;
  errors: number;
  errorSamples: string[];
  /**
   * This process's CPU over its whole life (start-up included), so the orchestrator can subtract it
   * from the machine's.
   */
  cpuMs: number;
}

async function run(job: WriterJob): Promise<WriterResult> {
  const channel = await openAppChannel(job.target, job.concurrency, "direct");
  const value = bytesToBase64(new Uint8Array(randomBytes(job.valueBytes)));
  const ackedAtMs: Array<number | null> = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const startedAtMs = wallClockMs();
  const stopAtMs = job.count === undefined ? startedAtMs + (job.durationMs ?? 10_000) : Number.POSITIVE_INFINITY;

  const loop = async () => {
    for (;;) {
      const i = next;
      if ((job.count !== undefined && i >= job.count) || wallClockMs() >= stopAtMs) return;
      next++;
      if (job.rate !== undefined) {
        // Write i is due at a fixed offset from the start, so the rate holds on average whatever
        // the answer times; with only `concurrency` loops, writes after a slow stretch catch up.
        const due = startedAtMs + (i * 1000) / job.rate;
        const wait = due - wallClockMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // Due after the end of the run: not written (null, but not an error either).
        if (wallClockMs() >= stopAtMs) {
          ackedAtMs[i] = null;
          return;
        }
      }
      const key = keyName(job.prefix, i);
      try {
        const out = (await channel.call("PUT", "/kms/data", { key, value })) as { key?: unknown };
        if (out.key !== key) throw new Error(`unexpected put answer ${JSON.stringify(out).slice(0, 200)}`);
        ackedAtMs[i] = wallClockMs();
      } catch (e) {
        ackedAtMs[i] = null;
        errors++;
        if (errorSamples.length < 3) errorSamples.push(String((e as Error).message ?? e).slice(0, 300));
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  } finally {
    await channel.close();
  }
  // Dense array: an index a loop claimed always got a value above, so no holes.
  const endedAtMs = wallClockMs();
  return {
    ackedAtMs: Array.from(ackedAtMs, (t) => t ?? null),
    startedAtMs,
    endedAtMs,
    errors,
    errorSamples,
    cpuMs: ownCpuMs(),
  };
}

const raw = process.argv[2];
if (raw) {
  run(JSON.parse(raw) as WriterJob).then(
    (result) => {
      process.stdout.write(`${JSON.stringify({ writes: result })}\n`, () => process.exit(0));
    },
    (e: unknown) => {
      process.stderr.write(`sync writer: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
