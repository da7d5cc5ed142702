import type { LoadGenerator } from '../load-client';
import type { LoadResult } from '../load-protocol';
import { memoryOf } from '../process-memory';
import { expectStatus, request, untilHit } from '../http-probe';
import { pairedRatios, summarize, type Summary } from '../stats';

export type Variant = 'memory' | 'hit' | 'bypass' | 'bareExpress' | 'nodeHttp';

export interface ThroughputResult {
  /** P1: cache-hit req/s / in-memory route req/s, per round. */
  hitOverMemory: Summary;
  /** P2: cache-hit req/s / cache-bypassed (Prisma) req/s, per round. */
  hitOverBypass: Summary;
  /** P1b: cache-hit req/s / a bare Express 5 process's req/s (same JSON from memory), per round. */
  hitOverBareExpress: Summary | null;
  /** Context: node:http + a memcached get req/s / the bare Express process's req/s, per round. */
  nodeHttpOverBareExpress: Summary | null;
  requestsPerSecond: Partial<Record<Variant, Summary>>;
  p50Ms: Partial<Record<Variant, Summary>>;
  p99Ms: Partial<Record<Variant, Summary>>;
  /** X-Cache of every response of each variant, summed over rounds (proof of the path taken). */
  xCache: Partial<Record<Variant, Record<string, number>>>;
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
  /**
   * Base URLs of baseline processes run in the same rounds (baseline-processes.ts): a bare
   * Express app (P1b) and node:http over memcached (context). Each answers `/products/:id`.
   */
  baselines?: Partial<Record<'bareExpress' | 'nodeHttp', string>>;
}

const MB = 1024 * 1024;

/**
 * P1, P2 and P7 in one series of rounds: every round runs the three variants back to back
 * against the same catalog process (in a rotating order), so each ratio divides two numbers
 * taken a few seconds apart on the same machine state.
 */
export async function runThroughput(load: LoadGenerator, opts: ThroughputOptions): Promise<ThroughputResult> {
  const urls: Partial<Record<Variant, string>> = {
    memory: `${opts.catalogUrl}/bench/memory/products/${opts.productId}`,
    hit: `${opts.catalogUrl}/products/${opts.productId}`,
    bypass: `${opts.catalogUrl}/products/${opts.productId}`,
  };
  for (const [variant, base] of Object.entries(opts.baselines ?? {}) as Array<[Variant, string]>) {
    urls[variant] = `${base}/products/${opts.productId}`;
  }
  const headers: Partial<Record<Variant, Record<string, string>>> = {
    bypass: { 'x-cache-bypass': '1' },
  };

  // The three variants must return the same document, or the comparison is meaningless.
  const viaMemory = await expectStatus(urls.memory!, 200);
  const viaCache = await untilHit(urls.hit!);
  const viaDatabase = await expectStatus(urls.bypass!, 200, { headers: headers.bypass });
  if (viaDatabase.xCache !== 'bypass') {
    throw new Error(
      `P2: X-Cache-Bypass not honoured (X-Cache=${viaDatabase.xCache}); is BENCH_ROUTES=1 wired?`,
    );
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(viaMemory.body, viaCache.body) || !same(viaCache.body, viaDatabase.body)) {
    throw new Error('P1/P2: the memory route, the cached path and the bypass path return different JSON');
  }
  // The baselines must send the very bytes the cached route sends.
  const hitBytes = await bodyBytes(urls.hit!);
  for (const variant of ['bareExpress', 'nodeHttp'] as const) {
    const url = urls[variant];
    if (url && !(await bodyBytes(url)).equals(hitBytes)) {
      throw new Error(`P1b: ${variant} (${url}) sends other bytes than the cached route`);
    }
  }

  // startStack runs `node --import tsx main.ts` directly, so this pid is the service itself (its
  // child processes, e.g. tsx's esbuild service, are not part of the service's footprint).
  const pid = opts.catalogPid;
  const variants = (['memory', 'hit', 'bypass', 'bareExpress', 'nodeHttp'] as const).filter(
    (v) => urls[v] !== undefined,
  );
  const run = (variant: Variant, durationSeconds: number) =>
    load.run({
      kind: 'fixed',
      url: urls[variant]!,
      headers: headers[variant],
      connections: opts.connections,
      durationSeconds,
    });

  for (const variant of variants) await run(variant, opts.warmupSeconds);
  await untilHit(urls.hit!);

  const results: Record<Variant, LoadResult[]> = {
    memory: [],
    hit: [],
    bypass: [],
    bareExpress: [],
    nodeHttp: [],
  };
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
        `  round ${round + 1}/${opts.rounds} ${variant.padEnd(11)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s` +
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
  const after = await request(urls.hit!);
  if (after.xCache !== 'hit')
    throw new Error(`P1: after the runs GET ${urls.hit} answered X-Cache=${after.xCache}`);

  const perVariant = <T>(f: (v: Variant) => T) =>
    Object.fromEntries(variants.map((v) => [v, f(v)])) as Partial<Record<Variant, T>>;
  const overBareExpress = (v: Variant) =>
    urls.bareExpress ? summarize(pairedRatios(rps(v), rps('bareExpress'))) : null;
  return {
    hitOverMemory: summarize(pairedRatios(rps('hit'), rps('memory'))),
    hitOverBypass: summarize(pairedRatios(rps('hit'), rps('bypass'))),
    hitOverBareExpress: overBareExpress('hit'),
    nodeHttpOverBareExpress: urls.nodeHttp ? overBareExpress('nodeHttp') : null,
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

/** A response's body as sent, for a byte-for-byte comparison. */
async function bodyBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
