/**
 * Who may read and change a user, with the cache warm: the guard runs before the cached read, so
 * a profile cached for its owner is never handed to anyone else.
 */
import { bearer } from '@memshop/testing';
import request from 'supertest';
import { startUserFixture, type UserFixture } from './user-fixture';

let f: UserFixture;
let alice: { authorization: string };
let bob: { authorization: string };
const ALICE = 4;
const BOB = 5;

beforeAll(async () => {
  f = await startUserFixture({ users: 10 });
  alice = bearer(await f.auth.userToken(ALICE));
  bob = bearer(await f.auth.userToken(BOB));
});

afterAll(async () => {
  await f?.close();
});

describe("a user's cached profile", () => {
  it('is served to its owner, an admin and order-service, and never to another user', async () => {
    await request(f.app).get(`/users/${ALICE}`).set(alice).expect(200).expect('X-Cache', 'miss');
    const own = await request(f.app).get(`/users/${ALICE}`).set(alice).expect(200).expect('X-Cache', 'hit');
    expect(own.body).toMatchObject({ id: ALICE, email: expect.any(String) });

    const other = await request(f.app).get(`/users/${ALICE}`).set(bob).expect(403);
    expect(other.headers['x-cache']).toBeUndefined();
    expect(JSON.stringify(other.body)).not.toContain(own.body.email);
    expect(other.headers['www-authenticate']).toBe('Bearer realm="memshop", error="insufficient_scope"');

    await request(f.app).get(`/users/${ALICE}`).set(f.as.admin).expect(200).expect('X-Cache', 'hit');
    await request(f.app).get(`/users/${ALICE}`).set(f.as.orderService).expect(200).expect('X-Cache', 'hit');
  });

  it('is not reachable without a token, with an expired one or one for another audience', async () => {
    const anonymous = await request(f.app).get(`/users/${ALICE}`).expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="memshop"');
    const expired = bearer(await f.auth.userToken(ALICE, { expiresInSeconds: -120 }));
    const late = await request(f.app).get(`/users/${ALICE}`).set(expired).expect(401);
    expect(late.headers['www-authenticate']).toMatch(/^Bearer realm="memshop", error="invalid_token"/);
    const elsewhere = bearer(await f.auth.userToken(ALICE, { audience: 'another-system' }));
    await request(f.app).get(`/users/${ALICE}`).set(elsewhere).expect(401);
    const forged = bearer(await f.auth.userToken(ALICE, { forged: true }));
    await request(f.app).get(`/users/${ALICE}`).set(forged).expect(401);
    // A service token addressed to catalog is not one for user-service.
    const forCatalog = bearer(await f.auth.serviceToken('catalog'));
    await request(f.app).get(`/users/${ALICE}`).set(forCatalog).expect(401);
  });
});

describe('changes to a user', () => {
  it('are made by the user or an admin only; accounts are created by an admin', async () => {
    await request(f.app).patch(`/users/${ALICE}`).set(bob).send({ name: 'Not Bob' }).expect(403);
    await request(f.app).delete(`/users/${ALICE}`).set(bob).expect(403);
    await request(f.app).patch(`/users/${ALICE}`).set(f.as.orderService).send({ name: 'Svc' }).expect(403);
    const renamed = await request(f.app)
      .patch(`/users/${ALICE}`)
      .set(alice)
      .send({ name: 'Alice' })
      .expect(200);
    expect(renamed.body.name).toBe('Alice');
    expect((await request(f.app).get(`/users/${ALICE}`).set(alice).expect(200)).body.name).toBe('Alice');

    const newUser = { email: 'new-user@example.com', name: 'New' };
    await request(f.app).post('/users').send(newUser).expect(401);
    await request(f.app).post('/users').set(alice).send(newUser).expect(403);
    await request(f.app).post('/users').set(f.as.admin).send(newUser).expect(201);
  });
});
