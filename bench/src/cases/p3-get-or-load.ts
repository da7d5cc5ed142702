import { Cache, CacheCluster } from '../../../libs/cache/src';
import memjs from 'memjs';
import { quantile, summarize, type Summary } from '../stats';

export interface P3Result {
  ratio: Summary;
  getOrLoadP50Us: Summary;
  memjsP50Us: Summary;
  iterationsPerRound: number;
}

const SAMPLE_PRODUCT = {
  id: 1,
  sku: 'SKU-0001',
  name: 'Espresso machine',
  description: 'A product-sized JSON document, like the ones the catalog caches.',
  priceCents: 19999,
  currency: 'EUR',
  stock: 42,
  categoryId: 1,
  category: { id: 1, name: 'Kitchen' },
  version: 3,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** Sequential calls of `op`, each timed on its own, appended to `into` (microseconds). */
async function timeSequential(iterations: number, op: () => Promise<unknown>, into: number[]): Promise<void> {
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

/** Calls per side in one block; the two sides alternate block by block. */
const BLOCK = 100;

/**
 * P3: the library's overhead on a hit. In-process and sequential (one request in flight), so
 * both sides see the same loopback round trip to the same memcached node and the ratio is the
 * cost of getOrLoad's own work: key lookup on the ring, envelope decode, JSON parse, metrics.
 * The two sides alternate in blocks of 100 calls, so a burst of background load on this
 * 2-core machine hits both sides alike instead of skewing one side's whole round.
 */
export async function runGetOrLoadMicro(
  server: string,
  opts: { rounds: number; iterations: number },
): Promise<P3Result> {
  const cluster = new CacheCluster({ servers: [server] });
  const cache = new Cache({ cluster });
  const client = memjs.Client.create(server, { retries: 0, logger: { log: () => {} } });
  const key = `bench:p3:product:${process.pid}`;
  const loader = async () => SAMPLE_PRODUCT;
  try {
    // Populating is in the background: poll until the entry is really served from memcached.
    for (let i = 0; i < 200; i++) {
      const r = await cache.getOrLoad(key, loader, { entity: 'bench', ttlSeconds: 3600 });
      if (r.status === 'hit') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const check = await cache.getOrLoad(key, loader, { entity: 'bench', ttlSeconds: 3600 });
    if (check.status !== 'hit') throw new Error(`P3: expected a cache hit, got ${check.status}`);
    const raw = await client.get(key);
    if (!raw.value) throw new Error(`P3: memjs does not see ${key} on ${server}`);

    const getOrLoad = () => cache.getOrLoad(key, loader, { entity: 'bench', ttlSeconds: 3600 });
    const bareGet = () => client.get(key);
    await timeSequential(Math.min(2000, opts.iterations), getOrLoad, []);
    await timeSequential(Math.min(2000, opts.iterations), bareGet, []);

    const ratios: number[] = [];
    const libP50: number[] = [];
    const memjsP50: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const lib: number[] = [];
      const bare: number[] = [];
      for (let done = 0; done < opts.iterations; done += BLOCK) {
        await timeSequential(BLOCK, getOrLoad, lib);
        await timeSequential(BLOCK, bareGet, bare);
      }
      const a = quantile(lib, 0.5);
      const b = quantile(bare, 0.5);
      libP50.push(a);
      memjsP50.push(b);
      ratios.push(a / b);
    }
    return {
      ratio: summarize(ratios),
      getOrLoadP50Us: summarize(libP50),
      memjsP50Us: summarize(memjsP50),
      iterationsPerRound: opts.iterations,
    };
  } finally {
    client.close();
    await cache.close();
    await cluster.close();
  }
}
