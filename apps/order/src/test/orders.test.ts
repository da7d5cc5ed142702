import fc from 'fast-check';
import * as amqp from 'amqplib';
import { createInvalidationEvent } from '@memshop/cache';
import { waitFor } from '@memshop/testing';
import { Client } from 'pg';
import request from 'supertest';
import { orderCacheKeys } from '../data/cache-keys';
import { createUpstreamInvalidationHandler } from '../events/upstream-invalidation';
import { startOrderFixture, type OrderFixture } from './order-fixture';

let f: OrderFixture;

beforeAll(async () => {
  f = await startOrderFixture();
}, 120_000);

afterAll(async () => {
  await f?.close();
});

interface CatalogProduct {
  id: number;
  name: string;
  priceCents: number;
  stock: number;
  version: number;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: f.as.admin });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

async function sendJson<T>(method: string, url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...f.as.admin },
    body: JSON.stringify(body),
  });
  if (response.status >= 300)
    throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const catalogProduct = (id: number) => getJson<CatalogProduct>(`${f.catalogUrl}/products/${id}`);

async function placeOrder(userId: number, items: Array<{ productId: number; quantity: number }>) {
  const res = await request(f.service.app)
    .post('/orders')
    .set(await f.as.user(userId))
    .send({ userId, items })
    .expect(201);
  return res.body as { id: number; totalCents: number; items: Array<{ unitPriceCents: number }> };
}

/** A PATCH in catalog whose event order-service consumes: everything catalog published before it has arrived too. */
async function eventBarrier(productId: number): Promise<void> {
  const { name } = await catalogProduct(productId);
  const patched = await sendJson<CatalogProduct>('PATCH', `${f.catalogUrl}/products/${productId}`, {
    name: `${name}.`,
  });
  await f.waitForConsumed(
    (e) => e.entity === 'product' && e.entityId === String(productId) && e.version === patched.version,
    `order-service to consume product ${productId} v${patched.version}`,
  );
}

/** Until order-service has consumed its own last event for an order (it may purge an older entry). */
async function orderEventsBarrier(orderId: number): Promise<void> {
  const { version } = await f.service.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  await f.waitForConsumed(
    (e) => e.entity === 'order' && e.entityId === String(orderId) && e.version === version,
    `order-service to consume order ${orderId} v${version}`,
  );
}

/**
 * Changes a product's price in catalog's database only: no event, no cache write. With
 * `bumpVersion` at a new version, as catalog's own write commits it; returns the row's version.
 */
async function changeBehindCatalogsBack(
  productId: number,
  priceCents: number,
  { bumpVersion = false } = {},
): Promise<number> {
  const db = new Client({ connectionString: f.catalogDatabaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ version: number }>(
      `UPDATE products SET price_cents = $1${bumpVersion ? ', version = version + 1' : ''} WHERE id = $2 RETURNING version`,
      [priceCents, productId],
    );
    return rows[0]!.version;
  } finally {
    await db.end();
  }
}

describe('POST /orders', () => {
  it('records the prices at order time and takes the stock in catalog', async () => {
    const [p11, p12] = await Promise.all([catalogProduct(11), catalogProduct(12)]);
    const user = await getJson<{ id: number; name: string }>(`${f.userUrl}/users/3`);

    const res = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(3))
      .send({
        userId: 3,
        items: [
          { productId: 12, quantity: 1 },
          { productId: 11, quantity: 2 },
        ],
      })
      .expect(201);

    expect(res.headers['location']).toBe(`/orders/${res.body.id}`);
    expect(res.body).toMatchObject({
      userId: 3,
      status: 'confirmed',
      currency: 'EUR',
      totalCents: 2 * p11.priceCents + p12.priceCents,
      user: { id: 3, name: user.name },
      items: [
        {
          productId: 11,
          quantity: 2,
          unitPriceCents: p11.priceCents,
          product: { id: 11, name: p11.name, priceCents: p11.priceCents },
        },
        {
          productId: 12,
          quantity: 1,
          unitPriceCents: p12.priceCents,
          product: { id: 12, name: p12.name, priceCents: p12.priceCents },
        },
      ],
    });
    const [after11, after12] = await Promise.all([catalogProduct(11), catalogProduct(12)]);
    expect(after11.stock).toBe(p11.stock - 2);
    expect(after12.stock).toBe(p12.stock - 1);

    const read = await request(f.service.app).get(`/orders/${res.body.id}`).set(f.as.admin).expect(200);
    expect(read.body).toEqual(res.body);
  });

  it('records the price catalog read when it took the stock, not the cached copy', async () => {
    const before = await catalogProduct(16);
    // Both caches (catalog's product entry, order's copy) hold the price before the change.
    await placeOrder(10, [{ productId: 16, quantity: 1 }]);
    await f.service.cache.drain();
    await changeBehindCatalogsBack(16, before.priceCents + 1);
    expect((await catalogProduct(16)).priceCents).toBe(before.priceCents);

    const res = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(10))
      .send({ userId: 10, items: [{ productId: 16, quantity: 3 }] })
      .expect(201);
    expect(res.body.items[0].unitPriceCents).toBe(before.priceCents + 1);
    expect(res.body.totalCents).toBe(3 * (before.priceCents + 1));
    const stored = await f.service.prisma.orderItem.findFirstOrThrow({ where: { orderId: res.body.id } });
    expect(stored.unitPriceCents).toBe(before.priceCents + 1);
  });

  it("keeps order-service's product copies: a stock change is not an event order-service receives", async () => {
    const first = await placeOrder(11, [{ productId: 17, quantity: 1 }]);
    await request(f.service.app).get(`/orders/${first.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();
    expect((await request(f.service.app).get(`/orders/${first.id}`).set(f.as.admin)).headers['x-cache']).toBe(
      'hit',
    );

    await placeOrder(11, [{ productId: 17, quantity: 2 }]);
    await eventBarrier(18);
    expect(f.consumed.filter((e) => e.source === 'catalog' && e.entity !== 'product')).toEqual([]);
    expect(f.consumed.filter((e) => e.entity === 'product' && e.entityId === '17')).toEqual([]);
    const after = await request(f.service.app).get(`/orders/${first.id}`).set(f.as.admin).expect(200);
    expect(after.headers['x-cache']).toBe('hit');
  });

  it.each([
    ['a JSON array', []],
    ['an empty object', {}],
    ['a string userId', { userId: '1', items: [{ productId: 1, quantity: 1 }] }],
    ['no items', { userId: 1, items: [] }],
    ['items not an array', { userId: 1, items: { productId: 1, quantity: 1 } }],
    ['a zero quantity', { userId: 1, items: [{ productId: 1, quantity: 0 }] }],
    ['a fractional quantity', { userId: 1, items: [{ productId: 1, quantity: 1.5 }] }],
    ['a huge quantity', { userId: 1, items: [{ productId: 1, quantity: 1001 }] }],
    ['a negative productId', { userId: 1, items: [{ productId: -1, quantity: 1 }] }],
    ['a productId beyond int4', { userId: 1, items: [{ productId: 2 ** 31, quantity: 1 }] }],
    [
      'a product twice',
      {
        userId: 1,
        items: [
          { productId: 1, quantity: 1 },
          { productId: 1, quantity: 2 },
        ],
      },
    ],
    [
      '51 lines',
      { userId: 1, items: Array.from({ length: 51 }, (_, i) => ({ productId: i + 1, quantity: 1 })) },
    ],
  ])('answers 400 for %s', async (_what, body) => {
    const res = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(1))
      .send(body as object)
      .expect(400);
    expect(res.body.error.code).toBe('bad_request');
    expect(res.body.error.message.length).toBeGreaterThan(0);
  });

  it('answers 400 for a body that is not JSON and 413 for an oversized one', async () => {
    await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(1))
      .set('content-type', 'application/json')
      .send('{"userId":')
      .expect(400);
    const huge = { userId: 1, items: [{ productId: 1, quantity: 1 }], padding: 'x'.repeat(200_000) };
    await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(1))
      .send(huge)
      .expect(413);
  });

  it('answers 422 for an unknown user or product, and takes no stock', async () => {
    const before = await catalogProduct(13);
    const unknownUser = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(99_999))
      .send({ userId: 99_999, items: [{ productId: 13, quantity: 1 }] })
      .expect(422);
    expect(unknownUser.body.error).toMatchObject({ code: 'unknown_user', details: { userId: 99_999 } });

    const unknownProduct = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(1))
      .send({
        userId: 1,
        items: [
          { productId: 13, quantity: 1 },
          { productId: 99_998, quantity: 1 },
        ],
      })
      .expect(422);
    expect(unknownProduct.body.error).toMatchObject({
      code: 'unknown_product',
      details: { productIds: [99_998] },
    });
    expect((await catalogProduct(13)).stock).toBe(before.stock);
  });

  it('answers 409 when catalog lacks the stock, and commits nothing', async () => {
    const before = await catalogProduct(14);
    const orders = await f.service.prisma.order.count();
    // 14 has enough for 1; 15's stock is set below what is asked, so the whole order is refused.
    await sendJson('PATCH', `${f.catalogUrl}/products/15`, { stock: 2 });
    const res = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(1))
      .send({
        userId: 1,
        items: [
          { productId: 14, quantity: 1 },
          { productId: 15, quantity: 3 },
        ],
      })
      .expect(409);
    expect(res.body.error.code).toBe('conflict');
    expect(res.body.error.details).toEqual({
      shortages: [{ productId: 15, requested: 3, available: 2 }],
      orderId: expect.any(Number),
    });
    expect((await catalogProduct(14)).stock).toBe(before.stock);
    // The order is kept as failed, so GET /orders/:id tells the same story as the 409.
    expect(await f.service.prisma.order.count()).toBe(orders + 1);
    const failed = await request(f.service.app)
      .get(`/orders/${res.body.error.details.orderId}`)
      .set(f.as.admin)
      .expect(200);
    expect(failed.body).toMatchObject({ status: 'failed', failure: { code: 'conflict' } });
  });
});

describe('GET /orders/:id', () => {
  it('is a miss, then a hit once the background populate is done', async () => {
    const order = await placeOrder(4, [
      { productId: 21, quantity: 1 },
      { productId: 22, quantity: 1 },
    ]);
    // Confirmation wrote the order through; a miss needs an entry that is gone, and no event of
    // the order's own still on its way to purge the populate below.
    await orderEventsBarrier(order.id);
    await f.service.cache.invalidate(orderCacheKeys(1).order(order.id));
    const first = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect(first.headers['x-cache']).toBe('miss');
    await f.service.cache.drain();
    const second = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('answers 400 for malformed ids and 404 for unknown ones, even just before they exist', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '99999999999']) {
      await request(f.service.app).get(`/orders/${id}`).set(f.as.admin).expect(400);
    }
    const next = ((await f.service.prisma.order.aggregate({ _max: { id: true } }))._max.id ?? 0) + 1;
    await request(f.service.app).get(`/orders/${next}`).set(f.as.admin).expect(404);
    await f.service.cache.drain();
    // The 404 was cached (negative caching); creating the order must purge it.
    const order = await placeOrder(5, [{ productId: 23, quantity: 1 }]);
    expect(order.id).toBe(next);
    await request(f.service.app).get(`/orders/${next}`).set(f.as.admin).expect(200);
  });
});

describe('GET /users/:id/orders', () => {
  it("lists a user's orders newest first, in pages", async () => {
    const placed = [];
    for (const productId of [24, 25, 26]) placed.push(await placeOrder(6, [{ productId, quantity: 1 }]));
    const page1 = await request(f.service.app).get('/users/6/orders?limit=2').set(f.as.admin).expect(200);
    expect(page1.body.user.id).toBe(6);
    expect(page1.body.orders.map((o: { id: number }) => o.id)).toEqual([placed[2]!.id, placed[1]!.id]);
    const page2 = await request(f.service.app)
      .get(`/users/6/orders?limit=2&before=${page1.body.nextBefore}`)
      .set(f.as.admin)
      .expect(200);
    expect(page2.body.orders.map((o: { id: number }) => o.id)).toEqual([placed[0]!.id]);
    expect(page2.body.nextBefore).toBeNull();
  });

  it('answers 404 for an unknown user and 400 for bad paging', async () => {
    await request(f.service.app).get('/users/99999/orders').set(f.as.admin).expect(404);
    await request(f.service.app).get('/users/6/orders?limit=0').set(f.as.admin).expect(400);
    await request(f.service.app).get('/users/6/orders?limit=abc').set(f.as.admin).expect(400);
    await request(f.service.app).get('/users/6/orders?before=-3').set(f.as.admin).expect(400);
  });
});

/** Puts an event straight into order-service's queue, as the exchange would route it there. */
async function deliverToOrderService(event: ReturnType<typeof createInvalidationEvent>): Promise<void> {
  const connection = await amqp.connect(f.stack.rabbit.url);
  try {
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(f.orderQueue, Buffer.from(JSON.stringify(event)), {
      persistent: true,
      contentType: 'application/json',
      messageId: event.id,
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/**
 * Caches order-service's copy of `productId` (through an order of `userId`), changes its price in
 * catalog, and expects the next read to miss and show the new price once the event is consumed.
 */
async function expectPriceChangePurgesCopy(productId: number, userId: number): Promise<void> {
  const before = await catalogProduct(productId);
  const order = await placeOrder(userId, [{ productId, quantity: 1 }]);
  await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
  await f.service.cache.drain();
  const cached = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
  expect(cached.headers['x-cache']).toBe('hit');
  expect(cached.body.items[0].product.priceCents).toBe(before.priceCents);

  const patched = await sendJson<CatalogProduct>('PATCH', `${f.catalogUrl}/products/${productId}`, {
    priceCents: before.priceCents + 500,
  });
  await f.waitForConsumed(
    (e) => e.entity === 'product' && e.entityId === String(productId) && e.version === patched.version,
    'the price change event',
  );
  const fresh = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
  expect(fresh.headers['x-cache']).toBe('miss');
  expect(fresh.body.items[0]).toMatchObject({
    unitPriceCents: before.priceCents,
    product: { id: productId, priceCents: before.priceCents + 500 },
  });
}

describe('invalidation from the owning services', () => {
  it("hears the owners' events on a queue of its own too, to purge copies ahead of the durable queue", async () => {
    const feed = f.service.earlyPurgeFeed!;
    expect(await feed.waitUntilConnected(10_000)).toBe(true);
    const ready = await request(f.service.adminApp).get('/health/ready').expect(200);
    expect(ready.body.checks.rabbitmq.detail.earlyPurge).toBe('connected');
    // Bound to the exchange catalog publishes on: a real change reaches it.
    const heard: string[] = [];
    const off = feed.onEventHandled((event) => heard.push(`${event.entityId}:${event.version}`));
    try {
      const { priceCents } = await catalogProduct(36);
      const patched = await sendJson<CatalogProduct>('PATCH', `${f.catalogUrl}/products/36`, {
        priceCents: priceCents + 1,
      });
      await waitFor(() => heard.includes(`36:${patched.version}`), {
        message: "the feed to hear catalog's event",
      });
    } finally {
      off();
    }
  });

  it("purges order-service's copy of a product when catalog changes its price", async () => {
    await expectPriceChangePurgesCopy(31, 7);
  });

  it("refills a purged copy from catalog's database while catalog's cache still holds the version before", async () => {
    // catalog publishes at its commit and fixes its own entry right after; this is the moment in
    // between, held open: the row is committed at a new version, catalog's cache still answers
    // the old one, and the event reaches order-service alone.
    const order = await placeOrder(9, [{ productId: 47, quantity: 1 }]);
    const before = await catalogProduct(47);
    await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();
    await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    const newPrice = before.priceCents + 700;
    const version = await changeBehindCatalogsBack(47, newPrice, { bumpVersion: true });
    try {
      expect(version).toBe(before.version + 1);
      expect((await catalogProduct(47)).priceCents).toBe(before.priceCents);
      // The event of a commit catalog has not fixed its cache for yet reaches order-service alone:
      // its copy is purged, then refilled from catalog's database, above the floor the event raised.
      const event = createInvalidationEvent({
        source: 'catalog',
        entity: 'product',
        action: 'updated',
        entityId: '47',
        version,
      });
      await deliverToOrderService(event);
      await f.waitForConsumed((e) => e.id === event.id, 'the event delivered to order-service');

      const refilled = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
      expect(refilled.headers['x-cache']).toBe('miss');
      expect(refilled.body.items[0].product.priceCents).toBe(newPrice);
      await f.service.cache.drain();
      const cached = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
      expect(cached.headers['x-cache']).toBe('hit');
      expect(cached.body.items[0].product.priceCents).toBe(newPrice);
      // Still stale there: the refill above did not come from catalog's cache.
      expect((await catalogProduct(47)).priceCents).toBe(before.priceCents);
    } finally {
      // catalog's own write, which this test held back, so no later test finds catalog stale.
      await eventBarrier(47);
    }
  });

  it("reads catalog's database for a product whose floor is above catalog's answer, missing or unreadable", async () => {
    const before = await catalogProduct(48);
    // catalog's cache holds it before the change below, so its cache answers the version before.
    await waitFor(async () => (await fetch(`${f.catalogUrl}/products/48`)).headers.get('x-cache') === 'hit', {
      message: "product 48 in catalog's cache",
    });
    const newPrice = before.priceCents + 300;
    await changeBehindCatalogsBack(48, newPrice, { bumpVersion: true });
    try {
      const { catalog } = f.service;
      const unknownId = 999_999;
      const floors = new Map([[unknownId, 1]]);
      // No floor: catalog's cache answers, the version before.
      const plain = await catalog.getProductsAtLeast([48], async () => new Map());
      expect(plain.get(48)?.priceCents).toBe(before.priceCents);
      // A floor that could not be read (VersionFloors answers Infinity): the committed row.
      const unreadable = await catalog.getProductsAtLeast(
        [48, unknownId],
        async () => new Map([...floors, [48, Number.POSITIVE_INFINITY]]),
      );
      expect(unreadable.get(48)?.priceCents).toBe(newPrice);
      // A floor above catalog's answer: the committed row; an id with a floor catalog does not
      // know is read there too, and stays unknown.
      const above = await catalog.getProductsAtLeast(
        [48, unknownId],
        async () => new Map([...floors, [48, before.version + 1]]),
      );
      expect(above.get(48)?.priceCents).toBe(newPrice);
      expect(above.get(unknownId)).toBeNull();
    } finally {
      await eventBarrier(48);
    }
  });

  it('purges a product again after its floor, and fails the event when the floor cannot be raised', async () => {
    const { cache, keys, logger } = f.service;
    const key = keys.product(49);
    const copy = { id: 49, name: 'copy', priceCents: 1, currency: 'EUR' };
    const event = createInvalidationEvent({
      source: 'catalog',
      entity: 'product',
      action: 'updated',
      // The copy's key and the floor's come from one number, however the id is spelled.
      entityId: '049',
      version: 1_000,
    });
    const handler = createUpstreamInvalidationHandler({
      cache,
      keys,
      logger,
      productFloors: {
        // The floor's node fails after a refill filled the copy the first purge removed.
        raise: async () => {
          await waitFor(async () => (await cache.cachedVersion(key)) === undefined, {
            message: 'the first purge',
          });
          await cache.writeThrough(key, copy, { version: 999, entity: 'product', ttlSeconds: 60 });
          throw new Error('floor not raised');
        },
      },
    });
    await cache.writeThrough(key, copy, { version: 998, entity: 'product', ttlSeconds: 60 });
    await expect(handler(event)).rejects.toThrow('floor not raised');
    expect(await cache.cachedVersion(key)).toBeUndefined();
  });

  it("purges order-service's copy of a user when user-service renames them", async () => {
    const order = await placeOrder(8, [{ productId: 32, quantity: 1 }]);
    await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();
    const renamed = await sendJson<{ id: number; name: string }>('PATCH', `${f.userUrl}/users/8`, {
      name: 'Renamed Eight',
    });
    expect(renamed.name).toBe('Renamed Eight');
    await f.waitForConsumed((e) => e.entity === 'user' && e.entityId === '8', 'the user rename event');
    const fresh = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect(fresh.body.user).toEqual({ id: 8, name: 'Renamed Eight' });
  });
});

describe('a gap in the event feed', () => {
  afterEach(async () => {
    f.rabbitProxy.restore();
    expect(await f.service.bus.waitUntilConnected(15_000)).toBe(true);
  });

  it('copies cached before the disconnect are not served as hits while it lasts', async () => {
    const before = await catalogProduct(33);
    const order = await placeOrder(12, [{ productId: 33, quantity: 1 }]);
    await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();
    const cached = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect([cached.headers['x-cache'], cached.body.items[0].product.priceCents]).toEqual([
      'hit',
      before.priceCents,
    ]);

    f.rabbitProxy.cut();
    await waitFor(() => !f.service.bus.connected, { message: "order's consumer to notice the cut" });
    // The event of this change waits in order's durable queue; until it arrives, only the gap
    // rule keeps the old copy from being served.
    const patched = await sendJson<CatalogProduct>('PATCH', `${f.catalogUrl}/products/33`, {
      priceCents: before.priceCents + 700,
    });
    const during = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect(during.headers['x-cache']).not.toBe('hit');
    expect(during.body.items[0]).toMatchObject({
      unitPriceCents: before.priceCents,
      product: { id: 33, priceCents: patched.priceCents },
    });

    f.rabbitProxy.restore();
    await f.waitForConsumed(
      (e) => e.entity === 'product' && e.entityId === '33' && e.version === patched.version,
      'the change event, delivered from the durable queue after the gap',
    );
  });
});

describe('catalog unreachable', () => {
  afterEach(() => f.catalogProxy.restore());

  it('still answers cached orders, and 503 for what needs catalog', async () => {
    const order = await placeOrder(9, [{ productId: 41, quantity: 1 }]);
    await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    await f.service.cache.drain();

    f.catalogProxy.cut();
    const cached = await request(f.service.app).get(`/orders/${order.id}`).set(f.as.admin).expect(200);
    expect(cached.headers['x-cache']).toBe('hit');

    const uncached = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(9))
      .send({ userId: 9, items: [{ productId: 42, quantity: 1 }] })
      .expect(503);
    expect(uncached.body.error).toMatchObject({
      code: 'dependency_unavailable',
      details: { service: 'catalog' },
    });
    // Product 41 is cached, but taking its stock needs catalog itself. A connection reset leaves
    // open whether catalog got the reservation: the order is saved pending and answered 202,
    // and the settler decides it once catalog answers again.
    const reserve = await request(f.service.app)
      .post('/orders')
      .set(await f.as.user(9))
      .send({ userId: 9, items: [{ productId: 41, quantity: 1 }] })
      .expect(202);
    expect(reserve.body.status).toBe('pending');
    expect(reserve.headers['location']).toBe(`/orders/${reserve.body.id}`);

    const ready = await request(f.service.adminApp).get('/health/ready').expect(200);
    expect(ready.body.checks.catalog.status).toBe('down');
  });
});

describe('GET /metrics on the admin app', () => {
  it('counts cache requests by namespace and result', async () => {
    const res = await request(f.service.adminApp).get('/metrics').expect(200);
    expect(res.text).toMatch(
      /memshop_cache_requests_total\{[^}]*namespace="product"[^}]*result="hit"[^}]*\} [1-9]/,
    );
    expect(res.text).toMatch(/memshop_invalidations_consumed_total\{[^}]*entity="product"[^}]*\} [1-9]/);
  });
});

// Closes the early purge's feed for the rest of the file.
describe('the durable queue alone', () => {
  it("purges a copy while the early purge's feed is closed", async () => {
    await f.service.earlyPurgeFeed?.close();
    expect(f.service.earlyPurgeFeed?.connected).toBe(false);
    await expectPriceChangePurgesCopy(35, 14);
  });
});

describe('robustness', () => {
  it('answers random ids, queries and bodies with no 5xx', async () => {
    const anyJson = fc.oneof(
      fc.jsonValue(),
      fc.record({
        userId: fc.oneof(fc.integer({ min: -5, max: 120 }), fc.string(), fc.constant(null)),
        items: fc.oneof(
          fc.array(
            fc.record({
              productId: fc.oneof(fc.integer({ min: -5, max: 1200 }), fc.double(), fc.string()),
              quantity: fc.oneof(fc.integer({ min: -2, max: 2000 }), fc.double()),
            }),
            { maxLength: 60 },
          ),
          fc.jsonValue(),
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), anyJson, async (id, query, body) => {
        const path = encodeURIComponent(id);
        const responses = await Promise.all([
          request(f.service.app).get(`/orders/${path}`).set(f.as.admin),
          request(f.service.app)
            .get(`/users/${path}/orders?${encodeURIComponent(query)}=${path}`)
            .set(f.as.admin),
          request(f.service.app)
            .post('/orders')
            .set(await f.as.user(1))
            .set('content-type', 'application/json')
            .send(JSON.stringify(body)),
        ]);
        for (const res of responses) expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});
