import { catalogProductKeys } from '../catalog-product-keys';
import { CacheCluster } from '../../../libs/cache/src';
import { expectStatus, scrapeMetrics, untilHit } from '../http-probe';
import { getCounters } from '../memcached-stats';
import { sumBy } from '../prometheus';
import { summarize, type Summary } from '../stats';

export interface BatchResult {
  /** memcached requests (cluster ops get/getMany) per node per HTTP request, one value per node. */
  requestsPerNode: Summary;
  /** Every op of any kind, per HTTP request, by node (from the cluster's op counter). */
  opsPerRequestByNode: Record<string, Record<string, number>>;
  /** Keys fetched per HTTP request by node, from memcached's own `stats cmd_get`. */
  keysPerRequestByNode: Record<string, number>;
  nodes: number;
  ids: number;
  requests: number;
}

const OP_METRIC = 'memshop_cache_operation_duration_seconds_count';

/**
 * P4: `GET /products?ids=` with 50 ids, all cached. The cluster's op counter (the
 * `memshop_cache_operation_duration_seconds` histogram's count, per node and op) of the catalog
 * process says how many memcached requests the batch cost; memcached's `cmd_get` says how many
 * keys each node served, as an independent check that the 50 keys went out in those requests.
 */
export async function runBatch(opts: {
  catalogUrl: string;
  /** The catalog's admin port: /metrics. */
  catalogAdminUrl: string;
  memcachedServers: string[];
  ids: number[];
  requests: number;
  schemaVersion?: number;
}): Promise<BatchResult> {
  const url = `${opts.catalogUrl}/products?ids=${opts.ids.join(',')}`;
  // Loaded afresh: entries an earlier case cached could pass their soft TTL during the requests
  // and be answered `stale` (a refresh in the background), which is not the all-hit case.
  const keys = catalogProductKeys(opts.schemaVersion);
  const cluster = new CacheCluster({ servers: opts.memcachedServers });
  try {
    await Promise.all(opts.ids.map((id) => cluster.delete(keys.key(String(id)))));
  } finally {
    await cluster.close();
  }
  await untilHit(url);
  const body = (await expectStatus(url, 200)).body as { products: unknown[] };
  if (body.products.length !== opts.ids.length)
    throw new Error(`P4: expected ${opts.ids.length} products, got ${body.products.length}`);

  const statsBefore = await getCounters(opts.memcachedServers);
  const metricsBefore = await scrapeMetrics(opts.catalogAdminUrl);
  for (let i = 0; i < opts.requests; i++) {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.headers.get('x-cache') !== 'hit')
      throw new Error(`P4: request ${i} was X-Cache=${res.headers.get('x-cache')}`);
  }
  const metricsAfter = await scrapeMetrics(opts.catalogAdminUrl);
  const statsAfter = await getCounters(opts.memcachedServers);

  const opsPerRequestByNode: Record<string, Record<string, number>> = {};
  for (const op of ['get', 'getMany', 'set', 'add', 'delete', 'incr']) {
    const before = sumBy(metricsBefore, OP_METRIC, 'node', { op });
    const after = sumBy(metricsAfter, OP_METRIC, 'node', { op });
    for (const [node, count] of after) {
      const perRequest = (count - (before.get(node) ?? 0)) / opts.requests;
      if (perRequest > 0) (opsPerRequestByNode[node] ??= {})[op] = perRequest;
    }
  }
  const keysPerRequestByNode: Record<string, number> = {};
  for (const server of opts.memcachedServers) {
    keysPerRequestByNode[server] =
      (statsAfter.get(server)!.cmdGet - statsBefore.get(server)!.cmdGet) / opts.requests;
  }
  const perNode = opts.memcachedServers.map((node) => {
    const ops = opsPerRequestByNode[node] ?? {};
    return (ops.get ?? 0) + (ops.getMany ?? 0);
  });
  return {
    requestsPerNode: summarize(perNode),
    opsPerRequestByNode,
    keysPerRequestByNode,
    nodes: opts.memcachedServers.length,
    ids: opts.ids.length,
    requests: opts.requests,
  };
}
