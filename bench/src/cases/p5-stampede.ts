import { catalogProductKeys } from '../catalog-product-keys';
import { CacheCluster } from '../../../libs/cache/src';
import type { LoadGenerator } from '../load-client';
import { scrapeMetrics, sleep } from '../http-probe';
import { sumOf } from '../prometheus';
import { summarize, type Summary } from '../stats';

export interface StampedeResult {
  /** Loader (database) calls per round, summed over all instances. */
  loaderCalls: Summary;
  requestsPerRound: number;
  instances: number;
  /** X-Cache of the responses, summed over rounds. */
  xCache: Record<string, number>;
  statusCodes: Record<string, number>;
  errors: number;
  productIds: number[];
}

async function loaderCalls(adminUrls: string[]): Promise<number> {
  let total = 0;
  for (const url of adminUrls)
    total += sumOf(await scrapeMetrics(url), 'memshop_cache_loader_calls_total', { namespace: 'product' });
  return total;
}

/**
 * P5: `requests` GETs of one cold product, all in flight at once, spread round-robin over the
 * catalog instances (separate processes: only the cross-process lease can keep this to one
 * database load). The key is deleted from memcached first so every round starts cold; loader
 * calls are read from every instance's /metrics before and after.
 */
export async function runStampede(
  load: LoadGenerator,
  opts: {
    catalogUrls: string[];
    /** The same instances' admin ports: /metrics. */
    catalogAdminUrls: string[];
    memcachedServers: string[];
    productIds: number[];
    requests: number;
    schemaVersion?: number;
  },
): Promise<StampedeResult> {
  const cluster = new CacheCluster({ servers: opts.memcachedServers });
  const keys = catalogProductKeys(opts.schemaVersion);
  const calls: number[] = [];
  const xCache: Record<string, number> = {};
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  try {
    for (const id of opts.productIds) {
      await cluster.delete(keys.key(String(id)));
      const before = await loaderCalls(opts.catalogAdminUrls);
      const urls = Array.from(
        { length: opts.requests },
        (_, i) => `${opts.catalogUrls[i % opts.catalogUrls.length]}/products/${id}`,
      );
      const result = await load.run({ kind: 'burst', urls, timeoutMs: 10_000 });
      // Populates finish in the background; the counter is final once the requests are answered,
      // the pause only lets a late (wrong) second loader show up in the count.
      await sleep(200);
      calls.push((await loaderCalls(opts.catalogAdminUrls)) - before);
      for (const [k, n] of Object.entries(result.xCache)) xCache[k] = (xCache[k] ?? 0) + n;
      for (const [k, n] of Object.entries(result.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + n;
      errors += result.errors;
    }
  } finally {
    await cluster.close();
  }
  return {
    loaderCalls: summarize(calls),
    requestsPerRound: opts.requests,
    instances: opts.catalogUrls.length,
    xCache,
    statusCodes,
    errors,
    productIds: opts.productIds,
  };
}
