/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(LABEL)) {
      labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` whose labels include `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Sums of `name` grouped by one label's value. */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label: string,
  where: Record<string, string> = {},
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Cumulative histogram buckets (upper bound -> count) of `name`_bucket, summed over other labels. */
export function histogramBuckets(
  samples: readonly Sample[],
  name: string,
  where: Record<string, string> = {},
): Array<{ le: number; count: number }> {
  const byLe = sumBy(samples, `${name}_bucket`, 'le', where);
  return [...byLe.entries()]
    .map(([le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count }))
    .sort((a, b) => a.le - b.le);
}

/** Bucket-wise difference after - before (a histogram of what happened in between). */
export function diffBuckets(
  before: Array<{ le: number; count: number }>,
  after: Array<{ le: number; count: number }>,
): Array<{ le: number; count: number }> {
  const prior = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) }));
}

/**
 * The upper bound of the bucket holding quantile q (Prometheus' histogram_quantile would
 * interpolate inside the bucket; the bucket bound is the honest, conservative answer).
 */
export function bucketQuantile(buckets: Array<{ le: number; count: number }>, q: number): number | null {
  const total = buckets.length ? buckets[buckets.length - 1]!.count : 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (const b of buckets) if (b.count >= rank) return b.le;
  return Infinity;
}
