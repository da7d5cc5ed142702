/**
 * `/metrics` read around one miss and one hit moves the counters by exactly those two requests,
 * and every service exports every family docs/architecture.md (metrics.ts) lists.
 */
import { decodeEnvelopeRaw } from '@memshop/cache/advanced';
import { bearer, waitFor } from '@memshop/testing';
import { MetricsScrape, startInProcessServices, type InProcessServices } from './observability-services';

let services: InProcessServices | undefined;

beforeAll(async () => {
  services = await startInProcessServices({ products: 10 });
}, 120_000);

afterAll(async () => {
  await services?.close();
}, 60_000);

const PRODUCT_ID = 7;
const ROUTE = { method: 'GET', route: '/products/:id', status_code: '200' };

async function getProduct(id: number): Promise<{ status: number; cache: string | null }> {
  const response = await fetch(`${services!.catalog.url}/products/${id}`, {
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return { status: response.status, cache: response.headers.get('x-cache') };
}

function counters(scrape: MetricsScrape) {
  return {
    miss: scrape.value('memshop_cache_requests_total', { namespace: 'product', result: 'miss' }),
    hit: scrape.value('memshop_cache_requests_total', { namespace: 'product', result: 'hit' }),
    otherResults: ['stale', 'error', 'bypass'].reduce(
      (sum, result) => sum + scrape.value('memshop_cache_requests_total', { namespace: 'product', result }),
      0,
    ),
    loaderCalls: scrape.value('memshop_cache_loader_calls_total', { namespace: 'product' }),
    loaderDurations: scrape.value('memshop_cache_loader_duration_seconds_count', { namespace: 'product' }),
    httpCount: scrape.value('http_request_duration_seconds_count', ROUTE),
    populatedStored: scrape.value('memshop_cache_populate_total', { result: 'stored' }),
  };
}

/** A stored value, not a lease placeholder nor nothing. */
function isEntry(value: Buffer | undefined): boolean {
  return value !== undefined && decodeEnvelopeRaw(value).ok;
}

describe('catalog /metrics around one miss and one hit', () => {
  it('moves the miss, hit, loader and HTTP counters by exactly those two requests', async () => {
    const { catalog } = services!;
    const before = counters(await MetricsScrape.read(catalog.adminUrl));

    expect(await getProduct(PRODUCT_ID)).toEqual({ status: 200, cache: 'miss' });
    // The populate runs in the background after the response; the hit needs it stored.
    await catalog.cache.drain();
    const key = catalog.catalogCache.productKey(PRODUCT_ID);
    await waitFor(async () => isEntry((await catalog.cluster.get(key))?.value), {
      message: `entry ${key} populated`,
    });
    expect(await getProduct(PRODUCT_ID)).toEqual({ status: 200, cache: 'hit' });

    const after = counters(await MetricsScrape.read(catalog.adminUrl));
    expect({
      miss: after.miss - before.miss,
      hit: after.hit - before.hit,
      otherResults: after.otherResults - before.otherResults,
      loaderCalls: after.loaderCalls - before.loaderCalls,
      loaderDurations: after.loaderDurations - before.loaderDurations,
      httpCount: after.httpCount - before.httpCount,
      populatedStored: after.populatedStored - before.populatedStored,
    }).toEqual({
      miss: 1,
      hit: 1,
      otherResults: 0,
      loaderCalls: 1,
      loaderDurations: 1,
      httpCount: 2,
      populatedStored: 1,
    });
  });

  it('labels the HTTP histogram with the route pattern, never the raw path', async () => {
    const scrape = await MetricsScrape.read(services!.catalog.adminUrl);
    const routes = new Set(
      scrape.samples('http_request_duration_seconds_count').map((s) => s.labels['route']),
    );
    expect(routes).toContain('/products/:id');
    expect([...routes].filter((r) => r?.includes(String(PRODUCT_ID)))).toEqual([]);
  });
});

// Every family docs/architecture.md (metrics.ts) lists, with its type and the labels it is broken down by.
const FAMILIES: Array<{ name: string; type: string; labels: string[] }> = [
  { name: 'memshop_cache_requests_total', type: 'counter', labels: ['namespace', 'result'] },
  { name: 'memshop_cache_operation_duration_seconds', type: 'histogram', labels: ['node', 'op'] },
  { name: 'memshop_cache_node_ejections_total', type: 'counter', labels: ['node'] },
  { name: 'memshop_cache_node_up', type: 'gauge', labels: ['node'] },
  { name: 'memshop_cache_loader_calls_total', type: 'counter', labels: ['namespace'] },
  { name: 'memshop_cache_loader_duration_seconds', type: 'histogram', labels: ['namespace'] },
  { name: 'memshop_cache_populate_queue_depth', type: 'gauge', labels: [] },
  { name: 'memshop_cache_populate_total', type: 'counter', labels: ['result'] },
  { name: 'memshop_invalidations_published_total', type: 'counter', labels: ['entity'] },
  { name: 'memshop_invalidations_consumed_total', type: 'counter', labels: ['entity'] },
  { name: 'memshop_invalidations_failed_total', type: 'counter', labels: ['stage'] },
  { name: 'memshop_invalidation_lag_seconds', type: 'histogram', labels: ['entity'] },
  { name: 'memshop_outbox_backlog', type: 'gauge', labels: [] },
  { name: 'memshop_outbox_oldest_age_seconds', type: 'gauge', labels: [] },
  { name: 'http_request_duration_seconds', type: 'histogram', labels: ['method', 'route', 'status_code'] },
  // Node's default metrics (prom-client collectDefaultMetrics)
  { name: 'process_cpu_user_seconds_total', type: 'counter', labels: [] },
  { name: 'process_resident_memory_bytes', type: 'gauge', labels: [] },
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', labels: [] },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', labels: [] },
];

describe.each(['catalog', 'user', 'order'] as const)('%s GET /metrics', (name) => {
  it('exports every documented metric family, labelled with the service', async () => {
    const { url } = services![name];
    // One cached read first, so the per-request families have samples to carry their labels.
    const read = { catalog: '/products/1', user: '/users/1', order: '/users/1/orders' }[name];
    const asUser1 = bearer(await services!.auth.userToken(1));
    expect((await fetch(`${url}${read}`, { headers: asUser1 })).status).toBe(200);
    const scrape = await MetricsScrape.read(services![name].adminUrl);

    const types = Object.fromEntries(FAMILIES.map((f) => [f.name, scrape.types.get(f.name) ?? 'absent']));
    expect(types).toEqual(Object.fromEntries(FAMILIES.map((f) => [f.name, f.type])));

    for (const sample of scrape.samples('process_cpu_user_seconds_total')) {
      expect(sample.labels['service']).toBe(name);
    }
    // Families with samples by now carry their documented labels (and service=<name>).
    const sampled = [
      'memshop_cache_requests_total',
      'memshop_cache_operation_duration_seconds_count',
      'memshop_cache_node_up',
      'memshop_cache_loader_calls_total',
      'http_request_duration_seconds_count',
    ];
    for (const family of sampled) {
      const samples = scrape.samples(family);
      expect({ family, count: samples.length > 0 }).toEqual({ family, count: true });
      const base = family.replace(/_count$/, '');
      const wanted = FAMILIES.find((f) => f.name === base)!.labels;
      for (const s of samples) {
        expect({ family, labels: Object.keys(s.labels).sort() }).toEqual({
          family,
          labels: expect.arrayContaining([...wanted, 'service']),
        });
        expect(s.labels['service']).toBe(name);
      }
    }
  });

  it('reports per-node latency and node state for every memcached node of the ring', async () => {
    const scrape = await MetricsScrape.read(services![name].adminUrl);
    const { servers } = services!.memcached;
    const up = Object.fromEntries(
      scrape.samples('memshop_cache_node_up').map((s) => [s.labels['node'], s.value]),
    );
    expect(up).toEqual(Object.fromEntries(servers.map((s) => [s, 1])));
    const timedNodes = new Set(
      scrape.samples('memshop_cache_operation_duration_seconds_count').map((s) => s.labels['node']),
    );
    expect([...timedNodes].every((n) => servers.includes(n!))).toBe(true);
    expect(timedNodes.size).toBeGreaterThan(0);
  });
});
