import type { Stack } from '../../../scripts/stack';
import { startCatalogVariants, type CatalogVariantSpec } from '../catalog-variant';
import { scrapeMetrics } from '../http-probe';
import type { LoadGenerator } from '../load-client';
import type { LoadResult } from '../load-protocol';
import { memoryOf } from '../process-memory';
import { sumBy, sumOf } from '../prometheus';
import { pairedRatios, summarize, type Summary } from '../stats';
import { mulberry32, shuffledIndexes } from '../zipf';

/**
 * The near cache (L1) on and off: two catalog processes of their own beside the stack, the same
 * but for CACHE_NEAR_ENABLED, both on the stack's memcached nodes and exchange. The on process
 * holds products read 10+ times a second (the default rate) in its own memory, up to the default
 * 16 MiB.
 */
const VARIANTS: readonly CatalogVariantSpec[] = [
  { name: 'near-off' },
  { name: 'near-on', env: { CACHE_NEAR_ENABLED: 'true' } },
];

export interface NearCacheZipfResult {
  offRequestsPerSecond: Summary;
  onRequestsPerSecond: Summary;
  /** L1-on req/s ÷ L1-off req/s, paired by round. */
  onOverOff: Summary;
  offP99Ms: Summary;
  onP99Ms: Summary;
  /** Near-cache hits ÷ near-cache reads of the on process, over the measured rounds. */
  nearHitRatio: number;
  /** The on process's near_cache_bytes at the end, MB, and its bound. */
  nearBytesMb: number;
  nearMaxBytesMb: number;
  /** VmHWM of each process after the rounds, MB. */
  offPeakRssMb: number | null;
  onPeakRssMb: number | null;
  errors: number;
}

// The P8 ranking (same seed), so the popular products are the ones P8 prewarmed in memcached.
const SEED = 20261127;
const MB = 1024 * 1024;
const DEFAULT_MAX_BYTES = 16 * MB;

/**
 * Zipf(s=1.0) reads of `ids` (GET /products/:id, no writes) against each process in turn,
 * alternating which goes first, `rounds` times: throughput and p99 with and without the near
 * cache, the on process's L1 hit ratio, and both processes' peak RSS (P7's memory bound).
 */
export async function runNearCacheZipf(
  load: LoadGenerator,
  stack: Stack,
  opts: {
    ids: number[];
    rounds: number;
    warmupSeconds: number;
    durationSeconds: number;
    connections: number;
    logDir: string;
    log: (line: string) => void;
  },
): Promise<NearCacheZipfResult> {
  const order = shuffledIndexes(opts.ids.length, mulberry32(SEED));
  const rankedIds = Array.from(order, (i) => String(opts.ids[i]!));
  const variants = await startCatalogVariants(stack, VARIANTS, opts.logDir);
  try {
    const off = variants.processes[0]!;
    const on = variants.processes[1]!;
    const job = (baseUrl: string, durationSeconds: number, seed: number) =>
      load.run({
        kind: 'zipf',
        baseUrl,
        ids: rankedIds,
        s: 1.0,
        seed,
        writeRatio: 0,
        readPath: '/products/{id}',
        writePath: '/products/{id}',
        writeMethod: 'PATCH',
        writeBody: '{}',
        connections: opts.connections,
        durationSeconds,
      });
    await job(off.url, opts.warmupSeconds, SEED);
    await job(on.url, opts.warmupSeconds, SEED);
    const nearReads = async () =>
      sumBy(await scrapeMetrics(on.adminUrl), 'memshop_near_cache_reads_total', 'result');
    const before = await nearReads();
    const offRuns: LoadResult[] = [];
    const onRuns: LoadResult[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const seed = SEED + 1 + round;
      // Alternating which goes first, so neither always runs on a box warmed by the other.
      const turns = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const turn of turns) {
        const result = await job(turn === 'off' ? off.url : on.url, opts.durationSeconds, seed);
        (turn === 'off' ? offRuns : onRuns).push(result);
      }
      opts.log(
        `  round ${round + 1}/${opts.rounds} L1 off ${offRuns.at(-1)!.requestsPerSecond.toFixed(0)} req/s p99 ${offRuns.at(-1)!.latencyMs.p99} ms,` +
          ` L1 on ${onRuns.at(-1)!.requestsPerSecond.toFixed(0)} req/s p99 ${onRuns.at(-1)!.latencyMs.p99} ms`,
      );
    }
    const after = await nearReads();
    const delta = (result: string) => (after.get(result) ?? 0) - (before.get(result) ?? 0);
    const reads = delta('hit') + delta('miss') + delta('bypass');
    const onMetrics = await scrapeMetrics(on.adminUrl);
    const rps = (runs: LoadResult[]) => runs.map((r) => r.requestsPerSecond);
    const peak = (pid: number | undefined) => {
      const memory = memoryOf(pid ?? -1);
      return memory ? memory.peakRssBytes / MB : null;
    };
    return {
      offRequestsPerSecond: summarize(rps(offRuns)),
      onRequestsPerSecond: summarize(rps(onRuns)),
      onOverOff: summarize(pairedRatios(rps(onRuns), rps(offRuns))),
      offP99Ms: summarize(offRuns.map((r) => r.latencyMs.p99)),
      onP99Ms: summarize(onRuns.map((r) => r.latencyMs.p99)),
      nearHitRatio: reads > 0 ? delta('hit') / reads : 0,
      nearBytesMb: sumOf(onMetrics, 'memshop_near_cache_bytes') / MB,
      nearMaxBytesMb: DEFAULT_MAX_BYTES / MB,
      offPeakRssMb: peak(off.pid),
      onPeakRssMb: peak(on.pid),
      errors: [...offRuns, ...onRuns].reduce((sum, r) => sum + r.errors + r.non2xx, 0),
    };
  } finally {
    await variants.stop();
  }
}
