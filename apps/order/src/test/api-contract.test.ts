/**
 * The OpenAPI document against the running app: the served document is the committed
 * docs/openapi/order.json, and every documented operation answers as documented. The fixture's
 * recorder checks each response here (and in every other order suite) against the document;
 * close() fails on any mismatch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startOrderFixture, type OrderFixture } from './order-fixture';

let f: OrderFixture;

beforeAll(async () => {
  f = await startOrderFixture();
}, 120_000);

afterAll(async () => {
  await f?.close();
});

const COMMITTED = path.join(__dirname, '..', '..', '..', '..', 'docs', 'openapi', 'order.json');

describe('the OpenAPI document', () => {
  afterEach(() => f.catalogProxy.restore());

  it('is served at /openapi.json and equals the committed docs/openapi/order.json (run `npm run openapi`)', async () => {
    const res = await request(f.service.app).get('/openapi.json').expect(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
  });

  it('is what every order operation answers', async () => {
    const app = () => request(f.service.app);
    await app().get('/health/live').expect(200);
    await app().get('/health/ready').expect(200);
    await app().get('/metrics').expect(404);
    await app().get('/docs').expect(200);

    const order = await app()
      .post('/orders')
      .set(await f.as.user(3))
      .send({ userId: 3, items: [{ productId: 21, quantity: 1 }] })
      .expect(201);
    await app()
      .post('/orders')
      .set(await f.as.user(3))
      .send({ userId: 3, items: [] })
      .expect(400);
    const lowStock = await fetch(`${f.catalogUrl}/products/22`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...f.as.admin },
      body: JSON.stringify({ stock: 1 }),
    });
    expect(lowStock.status).toBe(200);
    await app()
      .post('/orders')
      .set(await f.as.user(3))
      .send({ userId: 3, items: [{ productId: 22, quantity: 2 }] })
      .expect(409);
    await app()
      .post('/orders')
      .set(await f.as.user(99_999))
      .send({ userId: 99_999, items: [{ productId: 21, quantity: 1 }] })
      .expect(422);
    await app()
      .post('/orders')
      .set(await f.as.user(1))
      .set('content-type', 'application/json')
      .send(`{"userId":"${'x'.repeat(200_000)}"}`)
      .expect(413);

    await app().get(`/orders/${order.body.id}`).set(f.as.admin).expect(200);
    await app().get('/orders/abc').set(f.as.admin).expect(400);
    await app().get('/orders/99999').set(f.as.admin).expect(404);
    await app().get('/users/3/orders?limit=1').set(f.as.admin).expect(200);
    await app().get('/users/3/orders?limit=0').set(f.as.admin).expect(400);
    await app().get('/users/99999/orders').set(f.as.admin).expect(404);
    await app().get('/admin/cache-audit?sample=5').set(f.as.admin).expect(200);
    await app().get('/admin/cache-audit?sample=5').expect(401);
    await app()
      .get('/admin/cache-audit?sample=5')
      .set(await f.as.user(3))
      .expect(403);

    f.catalogProxy.cut();
    await app()
      .post('/orders')
      .set(await f.as.user(3))
      .send({ userId: 3, items: [{ productId: 23, quantity: 1 }] })
      .expect(503);

    expect(f.contract.unexercisedOperations()).toEqual([]);
    expect(f.contract.violations).toEqual([]);
  });
});
