import request from 'supertest';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 10 });
});

afterAll(async () => {
  f?.dbProxy.restore();
  await f?.close();
});

describe('Postgres unreachable (its TCP link cut)', () => {
  it('serves cached entries as stale, answers 503 for the rest and for writes, and recovers', async () => {
    const cached = await request(f.app).get('/products/1').expect(200);
    await request(f.app).get('/products?ids=2,3').expect(200);
    await f.cache.drain();
    // Past the soft expiry and the stale-while-revalidate window: a read must try the database.
    f.advanceClock(400_000);
    f.dbProxy.cut();

    const stale = await request(f.app).get('/products/1').expect(200);
    expect(stale.headers['x-cache']).toBe('stale');
    expect(stale.body).toEqual(cached.body);
    const batch = await request(f.app).get('/products?ids=2,3').expect(200);
    expect(batch.headers['x-cache']).toBe('stale');

    const uncached = await request(f.app).get('/products/4').expect(503);
    expect(uncached.body.error.code).toBe('database_unavailable');
    await request(f.app).patch('/products/1').set(f.as.admin).send({ priceCents: 1 }).expect(503);
    await request(f.app)
      .post('/products')
      .set(f.as.admin)
      .send({ sku: 'DOWN-1', name: 'n', priceCents: 1, currency: 'EUR', stock: 1, categoryId: 1 })
      .expect(503);
    await request(f.app)
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({ items: [{ productId: 1, quantity: 1 }] })
      .expect(503);
    expect((await request(f.app).get('/health/ready').expect(503)).body).toEqual({ status: 'not_ready' });
    const ready = await request(f.adminApp).get('/health/ready').expect(503);
    expect(ready.body.checks.database.status).toBe('down');
    await request(f.app).get('/health/live').expect(200);

    f.dbProxy.restore();
    const back = await request(f.app).get('/products/4').expect(200);
    expect(back.body.id).toBe(4);
    await request(f.app).get('/health/ready').expect(200);
  });
});

describe('Postgres silent (its TCP links open, no bytes, no reset, no FIN)', () => {
  it("answers 503 once the client's query timeout gives up on the silent connection, not 500", async () => {
    // Every connection, pooled or new, goes silent: the query waits for pg's query_timeout.
    f.dbProxy.silence();
    const uncached = await request(f.app).get('/products/6').expect(503);
    expect(uncached.body.error.code).toBe('database_unavailable');
  });
});
