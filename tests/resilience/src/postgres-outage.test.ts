import { waitFor } from '@memshop/testing';
import {
  startCatalogInstance,
  startCatalogWorld,
  type CatalogInstance,
  type CatalogWorld,
} from './support/catalog-world';
import { requestJson, type JsonResponse } from './support/http-client';

const CACHED_IDS = Array.from({ length: 10 }, (_, i) => i + 1);
const UNCACHED_ID = 15;
const ROUNDS = 3;
/** Past the product TTL (300 s + 10% jitter) and its 60 s stale-while-revalidate window. */
const PAST_SOFT_EXPIRY_MS = 400_000;

let world: CatalogWorld;
let catalog: CatalogInstance;
let clockOffsetMs = 0;

beforeAll(async () => {
  world = await startCatalogWorld({ products: 20 });
  catalog = await startCatalogInstance(world, 'pg-outage', {
    databaseProxy: true,
    clock: () => Date.now() + clockOffsetMs,
  });
}, 120_000);

afterAll(async () => {
  catalog?.dbProxy?.restore();
  await catalog?.close();
  await world?.close();
}, 60_000);

const get = (path: string) => requestJson(catalog.url, path);
const errorOf = (res: JsonResponse) => (res.body as { error?: { code?: string; message?: string } }).error;

describe('Postgres unreachable (the service’s link to it cut through a proxy)', () => {
  it('answers cached reads (stale once past their TTL), 503 with a clear message for writes, fresh again after restore', async () => {
    const before = new Map<number, string>();
    for (const id of CACHED_IDS) before.set(id, JSON.stringify((await get(`/products/${id}`)).body));
    await catalog.cache.drain();

    catalog.dbProxy!.cut();
    const reads: JsonResponse[] = [];
    const readsWithinTtl: JsonResponse[] = [];
    for (const id of CACHED_IDS) readsWithinTtl.push(await get(`/products/${id}`));
    clockOffsetMs += PAST_SOFT_EXPIRY_MS;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const id of CACHED_IDS) reads.push(await get(`/products/${id}`));
      reads.push(await get(`/products?ids=${CACHED_IDS.join(',')}`));
    }
    const uncached = await get(`/products/${UNCACHED_ID}`);
    const writes = [
      await requestJson(catalog.url, '/products/1', {
        method: 'PATCH',
        body: { priceCents: 1 },
        as: world.as.admin,
      }),
      await requestJson(catalog.url, '/categories/1', {
        method: 'PATCH',
        body: { name: 'Down' },
        as: world.as.admin,
      }),
      await requestJson(catalog.url, '/products', {
        method: 'POST',
        as: world.as.admin,
        body: { sku: 'PG-DOWN-1', name: 'n', priceCents: 1, currency: 'EUR', stock: 1, categoryId: 1 },
      }),
      await requestJson(catalog.url, '/stock/reservations', {
        method: 'POST',
        as: world.as.orderService,
        body: { items: [{ productId: 2, quantity: 1 }] },
      }),
    ];
    const ready = await get('/health/ready');

    const failed = [...readsWithinTtl, ...reads].filter((r) => r.status !== 200);
    if (failed.length > 0) console.log('failed reads:', failed.slice(0, 3));
    const failedReads = failed.length;
    const staleReads = reads.filter((r) => r.xCache === 'stale').length;
    const changedBodies = CACHED_IDS.filter(
      (id, i) => JSON.stringify(readsWithinTtl[i]?.body) !== before.get(id),
    ).length;
    console.log(
      `postgres cut: ${readsWithinTtl.length} reads within TTL (X-Cache ${readsWithinTtl.map((r) => r.xCache).join(',')}), ` +
        `${reads.length} reads past TTL, failed ${failedReads}, marked stale ${staleReads}; ` +
        `uncached read ${uncached.status}; writes ${writes.map((w) => `${w.status} ${errorOf(w)?.code}`).join(', ')}; ` +
        `ready ${ready.status}`,
    );
    expect(failedReads).toBe(0);
    expect(readsWithinTtl.map((r) => r.xCache)).toEqual(CACHED_IDS.map(() => 'hit'));
    expect(changedBodies).toBe(0);
    expect(staleReads).toBe(reads.length);
    for (const [i, id] of CACHED_IDS.entries()) expect(JSON.stringify(reads[i]?.body)).toBe(before.get(id));
    expect(uncached.status).toBe(503);
    expect(errorOf(uncached)?.code).toBe('database_unavailable');
    for (const write of writes) {
      expect(write.status).toBe(503);
      expect(errorOf(write)?.code).toBe('database_unavailable');
      expect(errorOf(write)?.message).toMatch(/database/);
    }
    expect(ready.status).toBe(503);

    catalog.dbProxy!.restore();
    await waitFor(async () => (await get(`/products/${UNCACHED_ID}`)).status === 200, {
      timeoutMs: 15_000,
      message: 'reads from Postgres again',
    });
    const afterRestore: JsonResponse[] = [];
    for (const id of CACHED_IDS) afterRestore.push(await get(`/products/${id}`));
    await catalog.cache.drain();
    const thenCached: JsonResponse[] = [];
    for (const id of CACHED_IDS) thenCached.push(await get(`/products/${id}`));
    const truthAfterRestore = await Promise.all(
      CACHED_IDS.map(async (id) => JSON.stringify(await world.adminRepository.findProduct(id))),
    );
    const patched = await requestJson(catalog.url, '/products/1', {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 777 },
    });
    const readBack = await get('/products/1');
    console.log(
      `postgres restored: reads X-Cache ${afterRestore.map((r) => r.xCache).join(',')}, then ${thenCached
        .map((r) => r.xCache)
        .join(
          ',',
        )}; write ${patched.status}, read back ${readBack.xCache} priceCents ${(readBack.body as { priceCents: number }).priceCents}`,
    );
    expect(afterRestore.map((r) => r.xCache)).toEqual(CACHED_IDS.map(() => 'miss'));
    expect(thenCached.map((r) => r.xCache)).toEqual(CACHED_IDS.map(() => 'hit'));
    expect(thenCached.map((r) => JSON.stringify(r.body))).toEqual(truthAfterRestore);
    expect(patched.status).toBe(200);
    expect((readBack.body as { priceCents: number }).priceCents).toBe(777);
  }, 90_000);
});
