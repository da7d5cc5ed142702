/**
 * Orders belong to the user in the token. With order-service's cache warm for one user, another
 * user gets exactly what a missing order would give (404, ids are sequential and must not tell
 * which orders exist), lists and placements for someone else are refused, and Idempotency-Keys
 * are each user's own.
 */
import { bearer } from '@memshop/testing';
import request from 'supertest';
import { startOrderFixture, type OrderFixture } from './order-fixture';

let f: OrderFixture;
let alice: { authorization: string };
let bob: { authorization: string };
const ALICE = 6;
const BOB = 7;

beforeAll(async () => {
  f = await startOrderFixture();
  [alice, bob] = await Promise.all([f.as.user(ALICE), f.as.user(BOB)]);
}, 120_000);

afterAll(async () => {
  await f?.close();
});

const app = () => request(f.service.app);

function placeFor(user: { authorization: string }, productId: number, key?: string) {
  const req = app().post('/orders').set(user);
  if (key) req.set('Idempotency-Key', key);
  return req.send({ items: [{ productId, quantity: 1 }] });
}

describe("a user's cached order", () => {
  it('is never returned to another user: the same 404 as an order that does not exist', async () => {
    const placed = await placeFor(alice, 24).expect(201);
    expect(placed.body.userId).toBe(ALICE);
    const id = placed.body.id as number;
    await app().get(`/orders/${id}`).set(alice).expect(200);
    await f.service.cache.drain();
    const hit = await app().get(`/orders/${id}`).set(alice).expect(200);
    expect(hit.headers['x-cache']).toBe('hit');

    const asBob = await app().get(`/orders/${id}`).set(bob).expect(404);
    const missing = await app().get('/orders/2000000000').set(bob).expect(404);
    expect(asBob.headers['x-cache']).toBeUndefined();
    expect(asBob.body.error.code).toBe(missing.body.error.code);
    expect(JSON.stringify(asBob.body)).not.toContain(String(ALICE));

    await app().get(`/orders/${id}`).expect(401);
    const admin = await app().get(`/orders/${id}`).set(f.as.admin).expect(200);
    expect(admin.body).toEqual(hit.body);
  });

  it("is not listed for another user, and a user's list is theirs to read", async () => {
    await app().get(`/users/${ALICE}/orders`).set(alice).expect(200);
    await app().get(`/users/${ALICE}/orders`).set(bob).expect(403);
    await app().get(`/users/${ALICE}/orders`).expect(401);
    await app().get(`/users/${ALICE}/orders`).set(f.as.admin).expect(200);
  });
});

describe('placing an order', () => {
  it('is for the user in the token: another userId in the body is a 403', async () => {
    const res = await app()
      .post('/orders')
      .set(alice)
      .send({ userId: BOB, items: [{ productId: 25, quantity: 1 }] })
      .expect(403);
    expect(res.body.error.code).toBe('forbidden');
    await app()
      .post('/orders')
      .send({ items: [{ productId: 25, quantity: 1 }] })
      .expect(401);
    // order-service's own credential opens catalog and user, not its own API.
    const serviceToken = bearer(await f.auth.serviceToken('order'));
    await app()
      .post('/orders')
      .set(serviceToken)
      .send({ items: [{ productId: 25, quantity: 1 }] })
      .expect(401);
  });

  it('scopes Idempotency-Keys per user: the same key from two users places two orders', async () => {
    const fromAlice = await placeFor(alice, 26, 'shared-key-1').expect(201);
    const fromBob = await placeFor(bob, 26, 'shared-key-1').expect(201);
    expect(fromBob.headers['idempotent-replayed']).toBeUndefined();
    expect(fromBob.body.id).not.toBe(fromAlice.body.id);
    expect(fromBob.body.userId).toBe(BOB);
    const replay = await placeFor(alice, 26, 'shared-key-1').expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(fromAlice.body.id);
  });
});
