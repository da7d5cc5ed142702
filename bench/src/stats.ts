/** A measurement repeated over several runs: the median is reported, min-max shows the spread. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: readonly number[]): Summary {
  if (runs.length === 0) throw new Error('summarize: no runs');
  const sorted = [...runs].sort((a, b) => a - b);
  return {
    median: quantileOfSorted(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    runs: [...runs],
  };
}

/**
 * Linear interpolation between the closest ranks (the "R-7" / numpy default definition), so
 * the median of an even-sized sample is the mean of the two middle values.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantile: empty sample');
  if (q < 0 || q > 1) throw new Error(`quantile: q=${q} outside [0, 1]`);
  const pos = (sorted.length - 1) * q;
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  const a = sorted[lower]!;
  if (upper === lower) return a;
  const b = sorted[upper]!;
  return a + (b - a) * (pos - lower);
}

export function quantile(values: readonly number[] | Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return quantileOfSorted(sorted, q);
}

/** Per-run ratios a[i] / b[i]: both sides of a ratio come from the same round, so drift cancels. */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  if (numerators.length !== denominators.length) throw new Error('pairedRatios: length mismatch');
  return numerators.map((n, i) => n / denominators[i]!);
}
