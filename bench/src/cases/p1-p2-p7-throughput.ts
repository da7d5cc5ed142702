import type { LoadGenerator } from '../load-client';
import type { LoadResult } from '../load-protocol';
import { memoryOf } from '../process-memory';
import { expectStatus, request, untilHit } from '../http-probe';
import { pairedRatios, summarize, type Summary } from '../stats';

export type Variant = 'memory' | 'hit' | 'bypass';

export interface ThroughputResult {
  /** P1: cache-hit req/s / in-memory route req/s, per round. */
  hitOverMemory: Summary;
  /** P2: cache-hit req/s / cache-bypassed (Prisma) req/s, per round. */
  hitOverBypass: Summary;
  requestsPerSecond: Record<Variant, Summary>;
  p50Ms: Record<Variant, Summary>;
  p99Ms: Record<Variant, Summary>;
  /** X-Cache of every response of each variant, summed over rounds (proof of the path taken). */
  xCache: Record<Variant, Record<string, number>>;
  errors: number;
  /** P7: VmHWM of the catalog process after the runs (its peak RSS since start). */
  peakRssMb: number;
  /** Highest VmRSS sampled every 100 ms during the cache-hit runs only. */
  maxSampledRssDuringHitMb: number;
  servicePid: number;
}

export interface ThroughputOptions {
  catalogUrl: string;
  catalogPid: number;
  productId: number;
  rounds: number;
  warmupSeconds: number;
  durationSeconds: number;
  connections: number;
  log: (line: string) => void;
}

const MB = 1024 * 1024;

/**
 * P1, P2 and P7 in one series of rounds: every round runs the three variants back to back
 * against the same catalog process (in a rotating order), so each ratio divides two numbers
 * taken a few seconds apart on the same machine state.
 */
export async function runThroughput(load: LoadGenerator, opts: ThroughputOptions): Promise<ThroughputResult> {
  const urls: Record<Variant, string> = {
    memory: `${opts.catalogUrl}/bench/memory/products/${opts.productId}`,
    hit: `${opts.catalogUrl}/products/${opts.productId}`,
    bypass: `${opts.catalogUrl}/products/${opts.productId}`,
  };
  const headers: Record<Variant, Record<string, string> | undefined> = {
    memory: undefined,
    hit: undefined,
    bypass: { 'x-cache-bypass': '1' },
  };

  // The three variants must return the same document, or the comparison is meaningless.
  const viaMemory = await expectStatus(urls.memory, 200);
  const viaCache = await untilHit(urls.hit);
  const viaDatabase = await expectStatus(urls.bypass, 200, { headers: headers.bypass });
  if (viaDatabase.xCache !== 'bypass') {
    throw new Error(
      `P2: X-Cache-Bypass not honoured (X-Cache=${viaDatabase.xCache}); is BENCH_ROUTES=1 wired?`,
    );
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(viaMemory.body, viaCache.body) || !same(viaCache.body, viaDatabase.body)) {
    throw new Error('P1/P2: the memory route, the cached path and the bypass path return different JSON');
  }

  // startStack runs `node --import tsx main.ts` directly, so this pid is the service itself (its
  // child processes, e.g. tsx's esbuild service, are not part of the service's footprint).
  const pid = opts.catalogPid;
  const variants: Variant[] = ['memory', 'hit', 'bypass'];
  const run = (variant: Variant, durationSeconds: number) =>
    load.run({
      kind: 'fixed',
      url: urls[variant],
      headers: headers[variant],
      connections: opts.connections,
      durationSeconds,
    });

  for (const variant of variants) await run(variant, opts.warmupSeconds);
  await untilHit(urls.hit);

  const results: Record<Variant, LoadResult[]> = { memory: [], hit: [], bypass: [] };
  let maxSampledRss = 0;
  for (let round = 0; round < opts.rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      let sampler: NodeJS.Timeout | undefined;
      if (variant === 'hit') {
        sampler = setInterval(() => {
          maxSampledRss = Math.max(maxSampledRss, memoryOf(pid)?.rssBytes ?? 0);
        }, 100);
      }
      const result = await run(variant, opts.durationSeconds);
      if (sampler) clearInterval(sampler);
      results[variant].push(result);
      opts.log(
        `  round ${round + 1}/${opts.rounds} ${variant.padEnd(6)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s` +
          `  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms  X-Cache ${JSON.stringify(result.xCache)}`,
      );
    }
  }

  const rps = (v: Variant) => results[v].map((r) => r.requestsPerSecond);
  const sumXCache = (v: Variant) => {
    const out: Record<string, number> = {};
    for (const r of results[v]) for (const [k, n] of Object.entries(r.xCache)) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  const errors = variants.reduce(
    (sum, v) => sum + results[v].reduce((s, r) => s + r.errors + r.non2xx, 0),
    0,
  );
  const memory = memoryOf(pid);
  if (!memory) throw new Error(`P7: cannot read /proc/${pid}/status`);
  // Sanity after the runs: the hit path is still a hit (a regression here would skew P1 silently).
  const after = await request(urls.hit);
  if (after.xCache !== 'hit')
    throw new Error(`P1: after the runs GET ${urls.hit} answered X-Cache=${after.xCache}`);

  const perVariant = <T>(f: (v: Variant) => T) => ({
    memory: f('memory'),
    hit: f('hit'),
    bypass: f('bypass'),
  });
  return {
    hitOverMemory: summarize(pairedRatios(rps('hit'), rps('memory'))),
    hitOverBypass: summarize(pairedRatios(rps('hit'), rps('bypass'))),
    requestsPerSecond: perVariant((v) => summarize(rps(v))),
    p50Ms: perVariant((v) => summarize(results[v].map((r) => r.latencyMs.p50))),
    p99Ms: perVariant((v) => summarize(results[v].map((r) => r.latencyMs.p99))),
    xCache: perVariant(sumXCache),
    errors,
    peakRssMb: memory.peakRssBytes / MB,
    maxSampledRssDuringHitMb: maxSampledRss / MB,
    servicePid: pid,
  };
}
