/**
 * The OpenAPI document against the running app: the served document is the committed
 * docs/openapi/catalog.json, and every documented operation answers as documented. The
 * fixture's recorder checks each response here (and in every other catalog suite) against the
 * document; close() fails on any mismatch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startCatalogFixture, type CatalogFixture } from './catalog-fixture';

let f: CatalogFixture;

beforeAll(async () => {
  f = await startCatalogFixture({ products: 10 });
});

afterAll(async () => {
  await f?.close();
});

const COMMITTED = path.join(__dirname, '..', '..', '..', '..', 'docs', 'openapi', 'catalog.json');

describe('the OpenAPI document', () => {
  it('is served at /openapi.json and equals the committed docs/openapi/catalog.json (run `npm run openapi`)', async () => {
    const res = await request(f.app).get('/openapi.json').expect(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
  });

  it('has a docs page whose assets are served locally', async () => {
    const page = await request(f.app).get('/docs').expect(200).expect('content-type', /html/);
    for (const asset of page.text.match(/\/docs\/[\w./-]+\.(?:js|css|png)/g) ?? []) {
      await request(f.app).get(asset).expect(200);
    }
  });

  it('is what every catalog operation answers', async () => {
    const app = () => request(f.app);
    await app().get('/health/live').expect(200);
    await app().get('/health/ready').expect(200);
    await app().get('/metrics').expect(404);

    await app().get('/products/1').expect(200);
    await app().get('/products/x').expect(400);
    await app().get('/products/99999').expect(404);
    await app().get('/products?ids=1,2,99999').expect(200);
    await app().get('/products?ids=99998').expect(404);

    const created = await app()
      .post('/products')
      .set(f.as.admin)
      .send({
        sku: 'CONTRACT-1',
        name: 'Contract',
        priceCents: 100,
        currency: 'EUR',
        stock: 5,
        categoryId: 1,
      })
      .expect(201);
    await app()
      .post('/products')
      .set(f.as.admin)
      .send({ sku: 'CONTRACT-1', name: 'Again', priceCents: 100, currency: 'EUR', stock: 5, categoryId: 1 })
      .expect(409);
    await app().patch(`/products/${created.body.id}`).set(f.as.admin).send({ priceCents: 90 }).expect(200);
    await app().patch(`/products/${created.body.id}`).set(f.as.admin).send({}).expect(400);

    await app().get('/categories/1/products?limit=10').expect(200);
    await app().get('/categories/999/products').expect(404);
    await app().patch('/categories/1').set(f.as.admin).send({ name: 'Renamed in a test' }).expect(200);

    const items = [{ productId: created.body.id, quantity: 2 }];
    await app().post('/stock/reservations').set(f.as.orderService).send({ items }).expect(200);
    await app()
      .post('/stock/reservations')
      .set(f.as.orderService)
      .send({ items: [{ productId: created.body.id, quantity: 1000 }] })
      .expect(409);
    await app().post('/stock/releases').set(f.as.orderService).send({ items }).expect(200);
    const reference = 'contract-reservation-1';
    await app().post('/stock/reservations').set(f.as.orderService).send({ items, reference }).expect(200);
    await app().get(`/stock/reservations/${reference}`).set(f.as.orderService).expect(200);
    await app().get('/stock/reservations/contract-unknown').set(f.as.orderService).expect(404);
    await app().post('/stock/confirmations').set(f.as.orderService).send({ reference }).expect(200);
    await app()
      .post('/stock/confirmations')
      .set(f.as.orderService)
      .send({ reference: 'contract-never-reserved' })
      .expect(409);
    await app().post('/stock/releases').set(f.as.orderService).send({ reference }).expect(200);
    await app().get('/admin/cache-audit?sample=5').set(f.as.admin).expect(200);
    await app().get('/admin/cache-audit?sample=5').expect(401);
    await app().get('/admin/cache-audit?sample=5').set(f.as.orderService).expect(403);
    await app().get('/admin/cache-audit?sample=0').set(f.as.admin).expect(400);
    const source = await app().get('/admin/source/products?ids=1,99999').set(f.as.orderService).expect(200);
    expect(source.body.missing).toEqual([99999]);
    await app().get('/admin/source/products?ids=99999').set(f.as.admin).expect(200);
    await app().get('/admin/source/products?ids=x').set(f.as.admin).expect(400);
    await app()
      .post('/stock/releases')
      .set(f.as.orderService)
      .send({ items: [{ productId: 99999, quantity: 1 }] })
      .expect(404);
    await app()
      .post('/products')
      .set(f.as.admin)
      .set('content-type', 'application/json')
      .send(`{"name":"${'x'.repeat(200_000)}"}`)
      .expect(413);

    await app().delete(`/products/${created.body.id}`).set(f.as.admin).expect(204);
    await app().delete(`/products/${created.body.id}`).set(f.as.admin).expect(404);
    await app().get('/no/such/route').expect(404);

    expect(f.contract.unexercisedOperations()).toEqual([]);
    expect(f.contract.violations).toEqual([]);
  });
});
