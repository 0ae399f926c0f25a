// Micro-benchmark loop for synchronous operations. A candidate and its baseline are measured in
// alternating rounds so that a burst of load from a neighbour on the shared machine hits both, and
// the median round is reported.

export interface OpsOptions {
  /** Length of one measuring round. */
  roundMs?: number;
  /** Rounds per function; the median is reported. */
  rounds?: number;
  /** Untimed warm-up per function (JIT, caches). */
  warmupMs?: number;
}

function runFor(fn: () => unknown, ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  // Check the clock every few calls: performance.now() is not free next to a ~1 µs operation.
  let start = performance.now();
  const t0 = start;
  while (start < end) {
    for (let i = 0; i < 8; i++) fn();
    n += 8;
    start = performance.now();
  }
  return n / ((start - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** ops/s of `candidate` and `baseline`, interleaved round by round. */
export function compareOps(
  candidate: () => unknown,
  baseline: () => unknown,
  opts: OpsOptions = {},
): { value: number; baseline: number } {
  const { roundMs = 400, rounds = 5, warmupMs = 200 } = opts;
  runFor(candidate, warmupMs);
  runFor(baseline, warmupMs);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(runFor(candidate, roundMs));
    b.push(runFor(baseline, roundMs));
  }
  return { value: median(a), baseline: median(b) };
}
