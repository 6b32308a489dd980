// Summaries of repeated measurements: median and p99 (nearest rank), and ratios of medians.

export interface Summary {
  readonly median: number;
  readonly p99: number;
  readonly runs: number;
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** For latencies: median and the 99th percentile. */
export function summarize(values: readonly number[]): Summary {
  return { median: percentile(values, 50), p99: percentile(values, 99), runs: values.length };
}

/**
 * For throughputs, where the tail is the slow end: `p99` is the figure 99 % of runs beat (the 1st percentile
 * of MiB/s), so that "p99" means the bad tail for every metric in the report.
 */
export function summarizeThroughput(values: readonly number[]): Summary {
  return { median: percentile(values, 50), p99: percentile(values, 1), runs: values.length };
}

export const ratio = (a: number, b: number): number => (b === 0 || !Number.isFinite(b) ? Number.NaN : a / b);

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
