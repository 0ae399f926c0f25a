// Latency percentiles from raw samples. The sample counts here (tens of thousands) are small enough
// to sort, which keeps the percentiles exact instead of bucketed.

/** Nearest-rank percentile (`p` in 0..100) of `samples`; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
