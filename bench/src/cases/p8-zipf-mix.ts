import { bearer, type AuthKeys } from '../../../libs/testing/src';
import type { LoadGenerator } from '../load-client';
import type { LoadResult } from '../load-protocol';
import { scrapeMetrics, sleep } from '../http-probe';
import { sumBy, sumOf } from '../prometheus';
import { summarize, type Summary } from '../stats';
import { mulberry32, shuffledIndexes, ZipfSampler } from '../zipf';

export interface ZipfMixResult {
  /** Server-side: hits / all cache-aside reads of products (catalog's memshop_cache_requests_total). */
  hitRatio: Summary;
  /** Client-side: share of read responses with X-Cache: hit. */
  clientHitRatio: Summary;
  p50Ms: Summary;
  p99Ms: Summary;
  requestsPerSecond: Summary;
  writeShare: Summary;
  products: number;
  prewarmedProducts: number;
  prewarmSeconds: number;
  /** Misses in each prewarm pass (passes repeat until < 1% of the ids miss, at most 4). */
  prewarmMissesPerPass: number[];
  /** memshop_cache_requests_total deltas by result, per run. */
  resultsByRun: Array<Record<string, number>>;
  errors: number;
  /** Share of requests that go to the 1% most popular products (what Zipf(1) over n means). */
  top1PercentShare: number;
}

const SEED = 20261127;

async function productRequests(catalogAdminUrl: string): Promise<Map<string, number>> {
  return sumBy(await scrapeMetrics(catalogAdminUrl), 'memshop_cache_requests_total', 'result', {
    namespace: 'product',
  });
}

async function populateQueueDepth(catalogAdminUrl: string): Promise<number> {
  return sumOf(await scrapeMetrics(catalogAdminUrl), 'memshop_cache_populate_queue_depth');
}

/**
 * Requests every id in batches of 50 until a pass finds (almost) everything cached. One pass is
 * not enough: the cache's background populate queue is bounded (1,000 by default) and drops
 * populates when a burst of misses outruns it, which a bulk prewarm is.
 */
async function prewarm(
  catalogUrl: string,
  catalogAdminUrl: string,
  ids: number[],
  concurrency: number,
): Promise<{ passes: number; misses: number[] }> {
  const batches: number[][] = [];
  for (let i = 0; i < ids.length; i += 50) batches.push(ids.slice(i, i + 50));
  const misses: number[] = [];
  for (let pass = 1; pass <= 4; pass++) {
    const before = (await productRequests(catalogAdminUrl)).get('miss') ?? 0;
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const res = await fetch(`${catalogUrl}/products?ids=${batch.join(',')}`);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`P8 prewarm: GET /products?ids= answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    for (let i = 0; i < 100 && (await populateQueueDepth(catalogAdminUrl)) > 0; i++) await sleep(100);
    misses.push(((await productRequests(catalogAdminUrl)).get('miss') ?? 0) - before);
    if (misses.at(-1)! <= ids.length / 100) return { passes: pass, misses };
  }
  return { passes: misses.length, misses };
}

/**
 * P8: a Zipf(s=1.0) read mix over `ids` (100k products) with `writeRatio` writes (PATCH of the
 * price, also Zipf-distributed: popular products change more often), against one catalog
 * instance. Popularity ranks are shuffled over the id space. The cache is prewarmed with every
 * product first (GET /products?ids= in batches of 50, repeated until a pass misses < 1%): the
 * steady state of a long-running service whose working set fits in memcached; without it a
 * 5-second run mostly measures compulsory misses of the long tail. Writes go through catalog's write-through (the new
 * version replaces the entry), so they do not cause misses by themselves.
 */
export async function runZipfMix(
  load: LoadGenerator,
  opts: {
    catalogUrl: string;
    /** The catalog's admin port: /metrics. */
    catalogAdminUrl: string;
    ids: number[];
    /** Mints the admin token the writes carry. */
    auth: AuthKeys;
    prewarmIds: number;
    writeRatio: number;
    rounds: number;
    warmupSeconds: number;
    durationSeconds: number;
    connections: number;
    log: (line: string) => void;
  },
): Promise<ZipfMixResult> {
  const order = shuffledIndexes(opts.ids.length, mulberry32(SEED));
  const rankedIds = Array.from(order, (i) => String(opts.ids[i]!));

  const prewarmStarted = performance.now();
  // Prewarm the most popular ranks first, so a partial prewarm (quick mode) covers the most mass.
  const warm = await prewarm(
    opts.catalogUrl,
    opts.catalogAdminUrl,
    rankedIds.slice(0, opts.prewarmIds).map(Number),
    2,
  );
  const prewarmSeconds = (performance.now() - prewarmStarted) / 1000;
  opts.log(
    `  prewarmed ${Math.min(opts.prewarmIds, rankedIds.length)} products in ${prewarmSeconds.toFixed(1)} s` +
      ` (${warm.passes} passes, misses per pass ${warm.misses.join(', ')})`,
  );

  const writeHeaders = bearer(await opts.auth.adminToken(1, { expiresInSeconds: 3600 }));
  const job = (durationSeconds: number, seed: number) =>
    load.run({
      kind: 'zipf',
      baseUrl: opts.catalogUrl,
      ids: rankedIds,
      s: 1.0,
      seed,
      writeRatio: opts.writeRatio,
      readPath: '/products/{id}',
      writePath: '/products/{id}',
      writeMethod: 'PATCH',
      writeBody: '{"priceCents":{n}}',
      writeHeaders,
      connections: opts.connections,
      durationSeconds,
    });
  await job(opts.warmupSeconds, SEED);

  const runs: LoadResult[] = [];
  const hitRatios: number[] = [];
  const clientRatios: number[] = [];
  const resultsByRun: Array<Record<string, number>> = [];
  for (let round = 0; round < opts.rounds; round++) {
    const before = sumBy(
      await scrapeMetrics(opts.catalogAdminUrl),
      'memshop_cache_requests_total',
      'result',
      {
        namespace: 'product',
      },
    );
    const result = await job(opts.durationSeconds, SEED + 1 + round);
    const after = sumBy(await scrapeMetrics(opts.catalogAdminUrl), 'memshop_cache_requests_total', 'result', {
      namespace: 'product',
    });
    const delta: Record<string, number> = {};
    for (const [k, v] of after) delta[k] = v - (before.get(k) ?? 0);
    const total = Object.values(delta).reduce((a, b) => a + b, 0);
    hitRatios.push((delta.hit ?? 0) / total);
    const reads = Object.entries(result.xCache)
      .filter(([k]) => k !== '')
      .reduce((sum, [, n]) => sum + n, 0);
    clientRatios.push((result.xCache.hit ?? 0) / reads);
    resultsByRun.push(delta);
    runs.push(result);
    opts.log(
      `  round ${round + 1}/${opts.rounds} ${result.requestsPerSecond.toFixed(0)} req/s  hit ratio ${hitRatios.at(-1)!.toFixed(3)}` +
        `  p99 ${result.latencyMs.p99} ms  results ${JSON.stringify(delta)}`,
    );
  }
  const sampler = new ZipfSampler(opts.ids.length, 1.0, mulberry32(SEED));
  return {
    hitRatio: summarize(hitRatios),
    clientHitRatio: summarize(clientRatios),
    p50Ms: summarize(runs.map((r) => r.latencyMs.p50)),
    p99Ms: summarize(runs.map((r) => r.latencyMs.p99)),
    requestsPerSecond: summarize(runs.map((r) => r.requestsPerSecond)),
    writeShare: summarize(runs.map((r) => (r.writes ?? 0) / ((r.reads ?? 0) + (r.writes ?? 0)))),
    products: opts.ids.length,
    prewarmedProducts: Math.min(opts.prewarmIds, opts.ids.length),
    prewarmSeconds,
    prewarmMissesPerPass: warm.misses,
    resultsByRun,
    errors: runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
    top1PercentShare: sampler.massOfTop(Math.floor(opts.ids.length / 100)),
  };
}
