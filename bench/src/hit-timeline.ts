import { scrapeMetrics, sleep } from './http-probe';
import { sumBy, sumOf, type Sample } from './prometheus';

/** Cumulative product-cache counters summed over catalog processes, at `tMs` since the start. */
export interface CounterSample {
  tMs: number;
  hits: number;
  /** every cache-aside read of a product (hit, miss, stale, error, bypass) */
  requests: number;
  /** calls of the product loader: each one is a database read */
  loads: number;
}

/** One sampling window: the hit ratio and database load rate between two samples. */
export interface TimelinePoint {
  /** end of the window, ms since the start */
  tMs: number;
  /** hits / reads in the window; null when the window had no reads */
  hitRatio: number | null;
  /** loader calls per second in the window */
  loadsPerSecond: number;
  readsPerSecond: number;
}

export function countersOf(samples: readonly Sample[]): Omit<CounterSample, 'tMs'> {
  const byResult = sumBy(samples, 'memshop_cache_requests_total', 'result', { namespace: 'product' });
  let requests = 0;
  for (const count of byResult.values()) requests += count;
  return {
    hits: byResult.get('hit') ?? 0,
    requests,
    loads: sumOf(samples, 'memshop_cache_loader_calls_total', { namespace: 'product' }),
  };
}

/** Windows between consecutive samples. */
export function timelineOf(samples: readonly CounterSample[]): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const seconds = (b.tMs - a.tMs) / 1000;
    if (seconds <= 0) continue;
    const reads = b.requests - a.requests;
    points.push({
      tMs: b.tMs,
      hitRatio: reads > 0 ? (b.hits - a.hits) / reads : null,
      loadsPerSecond: (b.loads - a.loads) / seconds,
      readsPerSecond: reads / seconds,
    });
  }
  return points;
}

/**
 * When the hit ratio first reaches `target` and stays there for the next window too (one lucky
 * 250 ms window is not "warm"); null when it never does.
 */
export function timeToReach(points: readonly TimelinePoint[], target: number): number | null {
  for (let i = 0; i < points.length; i++) {
    const here = points[i]!.hitRatio;
    if (here === null || here < target) continue;
    const next = points[i + 1];
    if (next === undefined || next.hitRatio === null || next.hitRatio >= target) return points[i]!.tMs;
  }
  return null;
}

/** The highest database load rate of any window. */
export function peakLoadsPerSecond(points: readonly TimelinePoint[]): number {
  return points.reduce((peak, p) => Math.max(peak, p.loadsPerSecond), 0);
}

export interface DipAndRecovery {
  /** mean hit ratio of the windows in the `baselineMs` before the change */
  before: number;
  /** lowest window hit ratio from the change until `untilMs` */
  dip: number;
  /** what counts as recovered: min(`target`, `before`) */
  recoveredAt: number;
  /** ms from the change until the first window at or above `recoveredAt` after the dip; 0 if it never fell below; null if never back */
  recoveryMs: number | null;
}

/** The hit-ratio dip after a change at `changeMs` and how long the ratio took to come back. */
export function dipAndRecovery(
  points: readonly TimelinePoint[],
  opts: { changeMs: number; untilMs: number; baselineMs: number; target: number },
): DipAndRecovery {
  const ratioOf = (p: TimelinePoint) => p.hitRatio;
  const baseline = points
    .filter((p) => p.tMs <= opts.changeMs && p.tMs > opts.changeMs - opts.baselineMs)
    .map(ratioOf)
    .filter((r): r is number => r !== null);
  const before = baseline.length > 0 ? baseline.reduce((a, b) => a + b, 0) / baseline.length : NaN;
  const after = points.filter((p) => p.tMs > opts.changeMs && p.tMs <= opts.untilMs && p.hitRatio !== null);
  const recoveredAt = Number.isNaN(before) ? opts.target : Math.min(opts.target, before);
  if (after.length === 0) return { before, dip: NaN, recoveredAt, recoveryMs: null };
  let lowest = 0;
  after.forEach((p, i) => {
    if (p.hitRatio! < after[lowest]!.hitRatio!) lowest = i;
  });
  const dip = after[lowest]!.hitRatio!;
  if (dip >= recoveredAt) return { before, dip, recoveredAt, recoveryMs: 0 };
  const back = after.slice(lowest).find((p) => p.hitRatio! >= recoveredAt);
  return { before, dip, recoveredAt, recoveryMs: back ? back.tMs - opts.changeMs : null };
}

/**
 * Samples the catalog processes' counters every `intervalMs` until stopped (each sample one
 * scrape of every admin port, in parallel; `tMs` is taken when the scrapes return).
 */
export function startSampling(
  adminUrls: readonly string[],
  intervalMs: number,
): { elapsedMs: () => number; stop: () => Promise<CounterSample[]> } {
  const started = performance.now();
  const samples: CounterSample[] = [];
  let running = true;
  const sampleOnce = async () => {
    const scraped = await Promise.all(adminUrls.map((url) => scrapeMetrics(url)));
    const tMs = performance.now() - started;
    const sum = { tMs, hits: 0, requests: 0, loads: 0 };
    for (const samplesOfOne of scraped) {
      const c = countersOf(samplesOfOne);
      sum.hits += c.hits;
      sum.requests += c.requests;
      sum.loads += c.loads;
    }
    samples.push(sum);
  };
  const loop = (async () => {
    await sampleOnce();
    while (running) {
      const next = started + samples.length * intervalMs;
      await sleep(Math.max(0, next - performance.now()));
      if (running) await sampleOnce();
    }
    await sampleOnce();
  })();
  return {
    elapsedMs: () => performance.now() - started,
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}
