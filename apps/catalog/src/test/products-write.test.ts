import { enqueueOutboxEvent, keySpace } from '@memshop/cache';
import diagnosticsChannel from 'node:diagnostics_channel';
import { CACHE_CHANNELS, OUTBOX_TABLE } from '@memshop/service-kit';
import { waitFor } from '@memshop/testing';
import request from 'supertest';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 30 });
});

afterAll(async () => {
  await f?.close();
});

const newProduct = (sku: string) => ({
  sku,
  name: 'Test Widget',
  description: 'made in a test',
  priceCents: 1234,
  currency: 'EUR',
  stock: 7,
  categoryId: 3,
});

async function getCached(id: number) {
  await f.cache.drain();
  return request(f.app).get(`/products/${id}`);
}

describe('POST /products', () => {
  it('creates a product and purges its negative cache entry', async () => {
    await request(f.app).get('/products/31').expect(404);
    expect((await getCached(31)).headers['x-cache']).toBe('hit');
    const created = await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send(newProduct('TEST-1'))
      .expect(201);
    expect(created.body).toMatchObject({
      id: 31,
      ...newProduct('TEST-1'),
      category: { id: 3, name: 'Home & Kitchen' },
      version: 1,
    });
    expect(created.headers.location).toBe('/products/31');
    const read = await request(f.app).get('/products/31').expect(200);
    expect(read.headers['x-cache']).toBe('miss');
    expect(read.body).toEqual(created.body);
  });

  it('rejects bad bodies with 400, a duplicate sku with 409, a large body with 413', async () => {
    await request(f.app).post('/products').set(f.as.admin).send({}).expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-1'), currency: 'euro' })
      .expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-2'), priceCents: -1 })
      .expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-3'), priceCents: '12' })
      .expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-4'), surprise: true })
      .expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('bad sku!') })
      .expect(400);
    const unknownCategory = await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-5'), categoryId: 99 })
      .expect(400);
    expect(unknownCategory.body.error.message).toMatch(/categoryId: category 99 not found/);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .set('Content-Type', 'application/json')
      .send('{"sku":')
      .expect(400);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .set('Content-Type', 'text/plain')
      .send('hello')
      .expect(400);
    const dup = await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send(newProduct('SKU-00001'))
      .expect(409);
    expect(dup.body.error.message).toMatch(/SKU-00001/);
    const huge = await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ ...newProduct('X-6'), description: 'x'.repeat(200_000) })
      .expect(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });
});

describe('PATCH /products/:id', () => {
  it('writes the new value through: the next read is a hit with the new price', async () => {
    await request(f.app).get('/products/5').expect(200);
    expect((await getCached(5)).headers['x-cache']).toBe('hit');
    const updated = await request(f.app)
      .patch('/products/5')
      .set(f.as.admin)
      .send({ priceCents: 4242 })
      .expect(200);
    expect(updated.body).toMatchObject({ id: 5, priceCents: 4242, version: 2 });
    const read = await request(f.app).get('/products/5').expect(200);
    expect(read.headers['x-cache']).toBe('hit');
    expect(read.body).toEqual(updated.body);
  });

  it('moving a product to another category refreshes both category lists', async () => {
    const before1 = await request(f.app).get('/categories/1/products?limit=100').expect(200);
    const before4 = await request(f.app).get('/categories/4/products?limit=100').expect(200);
    expect(before1.body.items.map((p: { id: number }) => p.id)).toContain(6);
    await f.cache.drain();
    await request(f.app).patch('/products/6').set(f.as.admin).send({ categoryId: 4 }).expect(200);
    const after1 = await request(f.app).get('/categories/1/products?limit=100').expect(200);
    const after4 = await request(f.app).get('/categories/4/products?limit=100').expect(200);
    expect(after1.headers['x-cache']).toBe('miss');
    expect(after1.body.total).toBe(before1.body.total - 1);
    expect(after4.body.total).toBe(before4.body.total + 1);
    expect(after4.body.items.map((p: { id: number }) => p.id)).toContain(6);
    expect((await request(f.app).get('/products/6')).body.category).toEqual({ id: 4, name: 'Garden' });
  });

  it('400 for an empty or bad change, 404 for an unknown product', async () => {
    await request(f.app).patch('/products/5').set(f.as.admin).send({}).expect(400);
    await request(f.app).patch('/products/5').set(f.as.admin).send({ stock: -3 }).expect(400);
    await request(f.app).patch('/products/5').set(f.as.admin).send({ categoryId: 42 }).expect(400);
    await request(f.app).patch('/products/9999').set(f.as.admin).send({ name: 'ghost' }).expect(404);
    await request(f.app).patch('/products/abc').set(f.as.admin).send({ name: 'ghost' }).expect(400);
  });
});

describe('DELETE /products/:id', () => {
  it('deletes, purges the entry, and answers 404 afterwards', async () => {
    await request(f.app).get('/products/8').expect(200);
    await f.cache.drain();
    await request(f.app).delete('/products/8').set(f.as.admin).expect(204);
    await request(f.app).get('/products/8').expect(404);
    await request(f.app).delete('/products/8').set(f.as.admin).expect(404);
  });
});

describe("other services' copies of a product", () => {
  // The fixture's config names order-service's key space by default (INVALIDATION_PRODUCT_COPIES),
  // and no consumer of this fixture's exchange purges it: only the writer's own purge can.
  const copyKey = (id: number) => keySpace({ prefix: 'order', entity: 'product', schemaVersion: 1 }).key(id);
  const plantCopy = async (id: number) => {
    expect(await f.cluster.set(copyKey(id), Buffer.from('{"copy":true}'), 300)).toBe(true);
  };
  const copyPresent = async (id: number) => (await f.cluster.get(copyKey(id))) !== null;

  it('are gone when a PATCH or a DELETE of the product answers, and no other copy is', async () => {
    for (const id of [20, 21, 22]) await plantCopy(id);
    await request(f.app).patch('/products/20').set(f.as.admin).send({ priceCents: 999 }).expect(200);
    expect(await copyPresent(20)).toBe(false);
    await request(f.app).delete('/products/21').set(f.as.admin).expect(204);
    expect(await copyPresent(21)).toBe(false);
    expect(await copyPresent(22)).toBe(true);
  });

  it('are gone when a POST answers: a copy of "not found" cached before the product existed', async () => {
    // The new id is not known in advance: a copy for each id past the seeded 30.
    const next = Array.from({ length: 50 }, (_, i) => 31 + i);
    for (const id of next) await plantCopy(id);
    const { body: created } = await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send(newProduct('COPY-1'))
      .expect(201);
    expect(next).toContain(created.id);
    expect(await copyPresent(created.id)).toBe(false);
    expect(await copyPresent(next.find((id) => id !== created.id)!)).toBe(true);
  });

  it("are deleted only once the product's own entry holds the new row", async () => {
    // Cached first: the writer's write-through updates an entry it finds.
    await request(f.app).get('/products/23').expect(200);
    await f.cache.drain();
    await plantCopy(23);
    // What catalog's entry holds at the moment the copy's delete is done.
    const ownVersionAtPurge: Array<Promise<number | undefined>> = [];
    const invalidations = diagnosticsChannel.channel(CACHE_CHANNELS.invalidate);
    const onInvalidate = (message: unknown) => {
      if ((message as { keys: string[] }).keys.includes(copyKey(23))) {
        ownVersionAtPurge.push(f.cache.cachedVersion(f.catalogCache.productKey(23)));
      }
    };
    invalidations.subscribe(onInvalidate);
    try {
      const { body } = await request(f.app)
        .patch('/products/23')
        .set(f.as.admin)
        .send({ priceCents: 2323 })
        .expect(200);
      expect(await Promise.all(ownVersionAtPurge)).toEqual([body.version]);
    } finally {
      invalidations.unsubscribe(onInvalidate);
    }
  });
});

describe('PATCH /categories/:id', () => {
  it('renames a category: cached products and lists show the new name', async () => {
    await request(f.app).get('/products/2').expect(200);
    await request(f.app).get('/categories/2/products').expect(200);
    await f.cache.drain();
    const res = await request(f.app)
      .patch('/categories/2')
      .set(f.as.admin)
      .send({ name: 'Gadgets' })
      .expect(200);
    expect(res.body).toMatchObject({ id: 2, name: 'Gadgets', version: 2 });
    expect((await request(f.app).get('/products/2')).body.category).toEqual({ id: 2, name: 'Gadgets' });
    const list = await request(f.app).get('/categories/2/products').expect(200);
    expect(list.headers['x-cache']).toBe('miss');
    expect(list.body.category.name).toBe('Gadgets');
    await request(f.app).patch('/categories/99').set(f.as.admin).send({ name: 'Nope' }).expect(404);
    await request(f.app).patch('/categories/2').set(f.as.admin).send({ name: '' }).expect(400);
  });
});

describe('invalidation events', () => {
  it('publishes every write through the outbox', async () => {
    await request(f.app).patch('/products/9').set(f.as.admin).send({ name: 'Renamed 9' }).expect(200);
    await waitFor(
      async () => {
        const pending = await f.adminPrisma.memshopOutbox.count({ where: { publishedAt: null } });
        return pending === 0;
      },
      { timeoutMs: 10_000, message: 'outbox never drained' },
    );
    expect(await f.adminPrisma.memshopOutbox.count()).toBeGreaterThan(0);
  });

  it('a committed change whose writer died before purging reaches the cache through the event', async () => {
    const stale = await request(f.app).get('/products/11').expect(200);
    await f.cache.drain();
    // What a writer that crashed right after its commit leaves behind: the row and the outbox event.
    await f.adminPrisma.$transaction(async (tx) => {
      await tx.product.update({ where: { id: 11 }, data: { priceCents: 777, version: { increment: 1 } } });
      await enqueueOutboxEvent(
        tx,
        {
          source: 'catalog',
          entity: 'product',
          action: 'updated',
          entityId: '11',
          version: 2,
        },
        { table: OUTBOX_TABLE },
      );
    });
    expect((await request(f.app).get('/products/11')).body.priceCents).toBe(stale.body.priceCents);
    f.relay.kick();
    const fresh = await waitFor(
      async () => {
        const res = await request(f.app).get('/products/11');
        return res.body.priceCents === 777 ? res : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, message: 'event never refreshed the entry' },
    );
    // Refreshed (written through by the consumer), not merely purged.
    expect(fresh.headers['x-cache']).toBe('hit');
    expect(fresh.body.version).toBe(2);
  });
});

describe('POST /stock/reservations', () => {
  it('takes stock for all items in one transaction and updates the cached products', async () => {
    const p12 = await request(f.app).patch('/products/12').set(f.as.admin).send({ stock: 10 }).expect(200);
    const p13 = await request(f.app).patch('/products/13').set(f.as.admin).send({ stock: 1 }).expect(200);
    // Cached first: a write replaces an entry but fills no absent key.
    await request(f.app).get('/products/12').expect(200);
    const ok = await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({
        items: [
          { productId: 12, quantity: 3 },
          { productId: 13, quantity: 1 },
        ],
      })
      .expect(200);
    expect(ok.body.items).toEqual([
      { productId: 12, quantity: 3, stock: 7, priceCents: p12.body.priceCents, currency: p12.body.currency },
      { productId: 13, quantity: 1, stock: 0, priceCents: p13.body.priceCents, currency: p13.body.currency },
    ]);
    const cached = await request(f.app).get('/products/12').expect(200);
    expect(cached.headers['x-cache']).toBe('hit');
    expect(cached.body.stock).toBe(7);

    const short = await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({
        items: [
          { productId: 12, quantity: 1 },
          { productId: 13, quantity: 1 },
        ],
      })
      .expect(409);
    expect(short.body.error.details.shortages).toEqual([{ productId: 13, requested: 1, available: 0 }]);
    // All or nothing: product 12 kept its stock.
    expect((await request(f.app).get('/products/12')).body.stock).toBe(7);

    await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({ items: [{ productId: 9999, quantity: 1 }] })
      .expect(404);
    await request(f.app).post('/stock/reservations').set(f.as.orderService).send({ items: [] }).expect(400);
    await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({ items: [{ productId: 12, quantity: 0 }] })
      .expect(400);

    await request(f.app)
      .post('/stock/releases')
      .set(f.as.orderService)
      .send({ items: [{ productId: 13, quantity: 2 }] })
      .expect(200);
    expect((await request(f.app).get('/products/13')).body.stock).toBe(2);
  });

  it('never sells more than the stock under concurrent reservations', async () => {
    await request(f.app).patch('/products/14').set(f.as.admin).send({ stock: 10 }).expect(200);
    // 25 transactions queue on one row lock behind a pool of 10 connections. On a CPU-starved
    // machine a request can wait out the pool's connect timeout before its transaction starts,
    // and answers 503 having reserved nothing; like any client, ask again until it gets an answer.
    const reserveOne = async () => {
      for (;;) {
        const res = await request(f.app)
          .post('/stock/reservations')
          .set(f.as.orderService)
          .send({ items: [{ productId: 14, quantity: 1 }] });
        if (res.status !== 503) return res;
      }
    };
    const results = await Promise.all(Array.from({ length: 25 }, reserveOne));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409)).toHaveLength(15);
    const row = await f.adminPrisma.stock.findUnique({ where: { productId: 14 } });
    expect(row?.quantity).toBe(0);
    expect((await request(f.app).get('/products/14')).body.stock).toBe(0);
  });
});
