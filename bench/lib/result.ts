// One machine-readable line per measurement (DESIGN.md "Performance"): scripts grep stdout for
// lines starting with {"bench": and ignore everything else a benchmark prints.

export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** The comparison measured in the same run (these machines are shared and noisy). */
  baseline: number | null;
  /** Optional context: what the baseline is, sample counts, ... */
  [extra: string]: unknown;
}

export function printResult(result: BenchResult): void {
  const rounded = {
    ...result,
    value: round(result.value),
    baseline: result.baseline === null ? null : round(result.baseline),
  };
  process.stdout.write(`${JSON.stringify(rounded)}\n`);
}

function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
}
