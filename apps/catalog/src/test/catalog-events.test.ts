import diagnostics from 'node:diagnostics_channel';
import { Cache, createInvalidationEvent, type CacheStore, type InvalidationEvent } from '@memshop/cache';
import { CACHE_CHANNELS, createLogger } from '@memshop/service-kit';
import { waitFor } from '@memshop/testing';
import request from 'supertest';
import { CatalogCache } from '../data/catalog-cache';
import { createCatalogEventHandler } from '../events/catalog-events';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 30 });
});

afterAll(async () => {
  await f?.close();
});

async function reserve(productId: number, quantity = 1) {
  const res = await request(f.app)
    .post('/stock/reservations')
    .set(f.as.orderService)
    .send({ items: [{ productId, quantity }] })
    .expect(200);
  return res.body.items[0] as { productId: number; stock: number; priceCents: number; currency: string };
}

async function outboxRows(productId: number) {
  return f.adminPrisma.$queryRawUnsafe<Array<{ routingKey: string; version: number }>>(
    `SELECT routing_key AS "routingKey", (payload->>'version')::int AS version
       FROM memshop_outbox WHERE payload->>'entityId' = $1 ORDER BY seq`,
    String(productId),
  );
}

describe('product writes', () => {
  const patchPrice = async (id: number, priceCents: number) =>
    (await request(f.app).patch(`/products/${id}`).set(f.as.admin).send({ priceCents }).expect(200)).body as {
      version: number;
    };
  const theEventOf = (id: number, version: number) =>
    f.waitForConsumed(
      (e) => e.entity === 'product' && e.entityId === String(id) && e.version === version,
      `product ${id} version ${version}`,
    );
  const publishedAt = async (eventId: string) =>
    (
      await f.adminPrisma.$queryRawUnsafe<Array<{ published: Date | null }>>(
        `SELECT published_at AS published FROM memshop_outbox WHERE event_id = $1::uuid`,
        eventId,
      )
    )[0]?.published ?? null;

  const productEventsPublished = async () => {
    const metric = await f.metrics.registry.getSingleMetric('memshop_invalidations_published_total')?.get();
    return metric?.values.find((v) => v.labels['entity'] === 'product')?.value ?? 0;
  };

  it('are published at their commit by the relay thread, not by the writer, and counted by the service', async () => {
    const kick = jest.spyOn(f.relay, 'kick');
    const publishedBefore = await productEventsPublished();
    // The thread's diagnostics_channel messages are republished in the service's thread.
    const seen: string[] = [];
    const onPublish = (message: unknown) => seen.push((message as { event: InvalidationEvent }).event.id);
    diagnostics.subscribe(CACHE_CHANNELS.publish, onPublish);
    try {
      const { version } = await patchPrice(5, 4321);
      const event = await theEventOf(5, version);
      expect(kick).not.toHaveBeenCalledWith([expect.objectContaining({ id: event.id })]);
      // The thread's metrics reach the service's registry (its /metrics).
      await waitFor(async () => (await productEventsPublished()) === publishedBefore + 1, {
        message: 'the publish never counted',
      });
      await waitFor(() => seen.includes(event.id), {
        message: 'the publish never reached diagnostics_channel',
      });
      await waitFor(async () => (await publishedAt(event.id)) !== null, {
        message: 'never marked published',
      });
    } finally {
      diagnostics.unsubscribe(CACHE_CHANNELS.publish, onPublish);
      kick.mockRestore();
    }
  });

  it("are all published while the relay thread's LISTEN connection is cut between them", async () => {
    const versions: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      if (i === 10) {
        // The service's listener in this test's own database: its session's last statement is
        // its LISTEN or its heartbeat.
        const cut = await f.adminPrisma.$queryRawUnsafe<Array<{ ok: boolean }>>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND (query LIKE 'LISTEN %' OR query = 'SELECT 1')`,
        );
        expect(cut.length).toBeGreaterThan(0);
      }
      versions.push((await patchPrice(7, 5000 + i)).version);
    }
    // A notification sent while nobody listened is published by the writer or the poll.
    for (const version of versions) await theEventOf(7, version);
    await waitFor(() => f.relayThread.publishing, {
      timeoutMs: 30_000,
      message: 'the thread never listened again',
    });
  });

  it('are published by the writer while the relay thread is down', async () => {
    await f.relayThread.close();
    const kick = jest.spyOn(f.relay, 'kick');
    try {
      const { version } = await patchPrice(6, 4322);
      const event = await theEventOf(6, version);
      expect(kick).toHaveBeenCalledWith([expect.objectContaining({ id: event.id })]);
    } finally {
      kick.mockRestore();
      f.relayThread.start();
    }
    await waitFor(() => f.relayThread.publishing, {
      timeoutMs: 30_000,
      message: 'the relay thread never came back',
    });
  });
});

describe('stock changes', () => {
  it('publish catalog.stock.updated (product id, product version), never catalog.product.updated', async () => {
    const before = await outboxRows(3);
    await reserve(3, 2);
    await request(f.app)
      .post('/stock/releases')
      .set(f.as.orderService)
      .send({ items: [{ productId: 3, quantity: 1 }] })
      .expect(200);
    // The row's version, not a cached read: catalog's own consumer may still be refreshing the
    // entry from the first event (it fills an absent key) until the second event's fix lands.
    const [{ version }] = await f.adminPrisma.$queryRawUnsafe<[{ version: number }]>(
      'SELECT version FROM products WHERE id = 3',
    );
    expect((await outboxRows(3)).slice(before.length)).toEqual([
      { routingKey: 'catalog.stock.updated', version: version - 1 },
      { routingKey: 'catalog.stock.updated', version },
    ]);
  });

  it("reach the catalog's own consumer, which finds the writer's entry current: no reload, no category bump", async () => {
    const product = (await request(f.app).get('/products/4').expect(200)).body;
    const page = `/categories/${product.categoryId}/products?limit=100`;
    await request(f.app).get(page).expect(200);
    await f.cache.drain();
    expect((await request(f.app).get(page)).headers['x-cache']).toBe('hit');

    const reloadsBefore = f.eventReloads.length;
    // Held until the writes are answered: a consumer faster than the writer's own write-through
    // reloads (correct, but not the case under test).
    await f.relay.stop();
    try {
      for (let i = 0; i < 3; i += 1) await reserve(4);
    } finally {
      f.relay.start();
    }
    const last = await f.waitForConsumed(
      (e) => e.entity === 'stock' && e.entityId === '4' && e.version === product.version + 3,
      'the third stock event of product 4',
    );
    expect(last.action).toBe('updated');
    expect(f.eventReloads.slice(reloadsBefore)).toEqual([]);

    const cached = await request(f.app).get('/products/4').expect(200);
    expect([cached.headers['x-cache'], cached.body.stock, cached.body.version]).toEqual([
      'hit',
      product.stock - 3,
      product.version + 3,
    ]);
    // Pages carry no stock: orders leave them cached.
    expect((await request(f.app).get(page)).headers['x-cache']).toBe('hit');
  });

  it('answer with the price read in the reservation, not the cached one', async () => {
    const cached = (await request(f.app).get('/products/7').expect(200)).body;
    await f.cache.drain();
    // Behind the service's back: no version bump, no event, the cached entry keeps the old price.
    await f.adminPrisma.product.update({
      where: { id: 7 },
      data: { priceCents: cached.priceCents + 111, currency: 'USD' },
    });
    expect((await request(f.app).get('/products/7')).body.priceCents).toBe(cached.priceCents);
    const reserved = await reserve(7);
    expect(reserved).toMatchObject({ priceCents: cached.priceCents + 111, currency: 'USD' });
  });
});

describe('the event consumer on its hot path', () => {
  const logger = createLogger({ service: 'catalog', level: 'silent' });

  /** The fixture's cluster, counting the operations that go through it. */
  function countingStore() {
    const ops = { get: 0, getMany: 0, set: 0, add: 0, delete: 0, incr: 0 };
    const c = f.cluster;
    const store: CacheStore = {
      get: (key) => (ops.get++, c.get(key)),
      getMany: (keys) => (ops.getMany++, c.getMany(keys)),
      set: (key, value, ttl, opts) => (ops.set++, c.set(key, value, ttl, opts)),
      add: (key, value, ttl, opts) => (ops.add++, c.add(key, value, ttl, opts)),
      delete: (key) => (ops.delete++, c.delete(key)),
      incr: (key, delta, opts) => (ops.incr++, c.incr(key, delta, opts)),
    };
    const reset = () => Object.keys(ops).forEach((op) => (ops[op as keyof typeof ops] = 0));
    return { store, ops, reset };
  }

  function consumer() {
    const counted = countingStore();
    const cache = new Cache({ cluster: counted.store });
    const catalogCache = new CatalogCache({ cache, schemaVersion: 1 });
    const reloads: number[] = [];
    const handle = createCatalogEventHandler({
      repository: {
        findProduct: (id) => (reloads.push(id), f.repository.findProduct(id)),
        findProducts: (ids) => f.repository.findProducts(ids),
        categoryProductIds: (id) => f.repository.categoryProductIds(id),
      },
      cache: catalogCache,
      logger,
    });
    return { ...counted, reloads, handle, catalogCache, cache };
  }

  const event = (entity: string, id: number, version: number): InvalidationEvent =>
    createInvalidationEvent({ source: 'catalog', entity, action: 'updated', entityId: String(id), version });

  it('costs one get when the cache holds the version, a reload when it holds an older one', async () => {
    const c = consumer();
    const current = (await f.repository.findProduct(15))!;
    await f.catalogCache.writeProduct(current, { refresh: true });

    for (const entity of ['stock', 'product']) {
      c.reset();
      await c.handle(event(entity, 15, current.version));
      expect({ entity, ops: c.ops, reloads: c.reloads }).toEqual({
        entity,
        ops: { get: 1, getMany: 0, set: 0, add: 0, delete: 0, incr: 0 },
        reloads: [],
      });
    }
    // An older event (a redelivery) is as current as the cache: same single get.
    c.reset();
    await c.handle(event('stock', 15, current.version - 1));
    expect([c.ops.get, c.reloads.length]).toEqual([1, 0]);

    // A change the cache has not seen (its writer died before fixing the entry): reloaded and
    // written through; a stock change bumps no category.
    await f.adminPrisma.stock.update({ where: { productId: 15 }, data: { quantity: 3 } });
    await f.adminPrisma.product.update({ where: { id: 15 }, data: { version: { increment: 1 } } });
    c.reset();
    await c.handle(event('stock', 15, current.version + 1));
    expect(c.reloads).toEqual([15]);
    expect(c.ops.incr).toBe(0);
    expect(await c.catalogCache.cachedProductVersion(15)).toBe(current.version + 1);
    const read = await request(f.app).get('/products/15').expect(200);
    expect([read.headers['x-cache'], read.body.stock]).toEqual(['hit', 3]);

    // The same for a product change, which also bumps the product's category pages.
    await f.adminPrisma.product.update({
      where: { id: 15 },
      data: { name: 'Renamed behind the cache', version: { increment: 1 } },
    });
    c.reset();
    c.reloads.length = 0;
    await c.handle(event('product', 15, current.version + 2));
    expect([c.reloads, c.ops.incr]).toEqual([[15], 1]);
    expect((await request(f.app).get('/products/15')).body.name).toBe('Renamed behind the cache');
  });

  it('reloads when it cannot tell: nothing cached, or a corrupt entry', async () => {
    const c = consumer();
    const product = (await f.repository.findProduct(16))!;
    await f.catalogCache.purgeProducts([16]);
    await c.handle(event('stock', 16, product.version));
    expect(c.reloads).toEqual([16]);
    expect(await c.catalogCache.cachedProductVersion(16)).toBe(product.version);

    await f.cluster.set(f.catalogCache.productKey(16), Buffer.from('{"not":"an entry"}'), 60);
    await c.handle(event('stock', 16, product.version));
    expect(c.reloads).toEqual([16, 16]);
    expect(await c.catalogCache.cachedProductVersion(16)).toBe(product.version);
  });
});
