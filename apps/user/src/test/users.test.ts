import { enqueueOutboxEvent, keySpace } from '@memshop/cache';
import { OUTBOX_TABLE } from '@memshop/service-kit';
import { waitFor } from '@memshop/testing';
import request, { type Response } from 'supertest';
import { seedUser } from '../prisma/seed';
import { startUserFixture, type UserFixture } from './user-fixture';

let f: UserFixture;

beforeAll(async () => {
  f = await startUserFixture({ users: 20 });
});

afterAll(async () => {
  f?.dbProxy.restore();
  await f?.close();
});

describe('GET /users/:id', () => {
  it('answers a miss from Postgres, then a hit', async () => {
    const first = await request(f.app).get('/users/1').set(f.as.admin).expect(200);
    expect(first.headers['x-cache']).toBe('miss');
    expect(first.body).toMatchObject({
      ...seedUser(1),
      profile: { bio: 'Seed user number 1.', locale: 'en' },
      version: 1,
    });
    await f.cache.drain();
    const second = await request(f.app).get('/users/1').set(f.as.admin).expect(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('400 for malformed ids, 404 (negatively cached) for unknown ones', async () => {
    for (const id of ['x', '0', '-2', '2.5', '12345678901'])
      await request(f.app).get(`/users/${id}`).set(f.as.admin).expect(400);
    await request(f.app).get('/users/999').set(f.as.admin).expect(404);
    await f.cache.drain();
    await request(f.app).get('/users/999').set(f.as.admin).expect(404).expect('X-Cache', 'hit');
  });

  it('treats a corrupt entry as a miss', async () => {
    const good = await request(f.app).get('/users/2').set(f.as.admin).expect(200);
    await f.cache.drain();
    await f.cluster.set(f.userCache.userKey(2), Buffer.from('{"not":"an entry"'), 60);
    expect((await request(f.app).get('/users/2').set(f.as.admin).expect(200)).body).toEqual(good.body);
  });
});

describe('POST /users', () => {
  it('creates a user (purging a cached 404), 409 on a duplicate email in any case', async () => {
    await request(f.app).get('/users/21').set(f.as.admin).expect(404);
    await f.cache.drain();
    const created = await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'New.Person@Example.com', name: 'New Person' })
      .expect(201);
    expect(created.body).toMatchObject({
      id: 21,
      email: 'new.person@example.com',
      name: 'New Person',
      version: 1,
    });
    expect((await request(f.app).get('/users/21').set(f.as.admin).expect(200)).body).toEqual(created.body);
    const dup = await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'NEW.person@example.com', name: 'Twin' })
      .expect(409);
    expect(dup.body.error.message).toMatch(/already exists/);
  });

  it('400 for bad bodies, 413 for a large one', async () => {
    await request(f.app).post('/users').set(f.as.admin).send({}).expect(400);
    await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'not-an-email', name: 'X' })
      .expect(400);
    await request(f.app).post('/users').set(f.as.admin).send({ email: 'a@b.co', name: '' }).expect(400);
    await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'a@b.co', name: 'A', admin: true })
      .expect(400);
    await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .set('Content-Type', 'application/json')
      .send('[')
      .expect(400);
    await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'a@b.co', name: 'x'.repeat(300_000) })
      .expect(413);
  });
});

describe('PATCH and DELETE /users/:id', () => {
  it('writes an update through and deletes with a purge', async () => {
    await request(f.app).get('/users/3').set(f.as.admin).expect(200);
    await f.cache.drain();
    const updated = await request(f.app)
      .patch('/users/3')
      .set(f.as.admin)
      .send({ name: 'Renamed Three', bio: 'hi' })
      .expect(200);
    expect(updated.body).toMatchObject({ id: 3, name: 'Renamed Three', profile: { bio: 'hi' }, version: 2 });
    const read = await request(f.app).get('/users/3').set(f.as.admin).expect(200);
    expect(read.headers['x-cache']).toBe('hit');
    expect(read.body).toEqual(updated.body);

    await request(f.app).patch('/users/3').set(f.as.admin).send({ email: 'user4@example.com' }).expect(409);
    await request(f.app).patch('/users/3').set(f.as.admin).send({}).expect(400);
    await request(f.app).patch('/users/777').set(f.as.admin).send({ name: 'Ghost' }).expect(404);

    await request(f.app).delete('/users/3').set(f.as.admin).expect(204);
    await request(f.app).get('/users/3').set(f.as.admin).expect(404);
    await request(f.app).delete('/users/3').set(f.as.admin).expect(404);
  });

  it("deletes other services' copies of the user before it answers a POST, a PATCH or a DELETE", async () => {
    // Order-service's key space is the default of INVALIDATION_USER_COPIES; nothing else purges it here.
    const space = keySpace({ prefix: 'order', entity: 'user', schemaVersion: 1 });
    const plant = async (id: number) =>
      expect(await f.cluster.set(space.key(id), Buffer.from('{"copy":true}'), 300)).toBe(true);
    const present = async (id: number) => (await f.cluster.get(space.key(id))) !== null;

    for (const id of [11, 12]) await plant(id);
    await request(f.app).patch('/users/11').set(f.as.admin).send({ name: 'Renamed Eleven' }).expect(200);
    expect(await present(11)).toBe(false);
    expect(await present(12)).toBe(true);
    await request(f.app).delete('/users/12').set(f.as.admin).expect(204);
    expect(await present(12)).toBe(false);

    // A copy of "not found" cached before the user existed; the new id is not known in advance.
    const next = Array.from({ length: 50 }, (_, i) => 21 + i);
    for (const id of next) await plant(id);
    const { body: created } = await request(f.app)
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'copies@example.com', name: 'Copies' })
      .expect(201);
    expect(next).toContain(created.id);
    expect(await present(created.id)).toBe(false);
    expect(await present(next.find((id) => id !== created.id)!)).toBe(true);
  });

  it('a change committed by a writer that died before purging arrives through the event', async () => {
    await request(f.app).get('/users/5').set(f.as.admin).expect(200);
    await f.cache.drain();
    await f.adminPrisma.$transaction(async (tx) => {
      await tx.user.update({
        where: { id: 5 },
        data: { name: 'Changed Elsewhere', version: { increment: 1 } },
      });
      await enqueueOutboxEvent(
        tx,
        {
          source: 'user',
          entity: 'user',
          action: 'updated',
          entityId: '5',
          version: 2,
        },
        { table: OUTBOX_TABLE },
      );
    });
    f.relay.kick();
    const fresh = await waitFor(
      async () => {
        const res = await request(f.app).get('/users/5').set(f.as.admin);
        return res.body.name === 'Changed Elsewhere' ? res : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, message: 'event never refreshed the user' },
    );
    expect(fresh.body.version).toBe(2);
  });
});

describe("the service's own events", () => {
  it("find the writer's write-through current: no reload", async () => {
    await request(f.app).get('/users/15').set(f.as.admin).expect(200);
    const reloadsBefore = f.eventReloads.length;
    // Held until the write is answered: a consumer faster than the writer's own write-through
    // reloads (correct, but not the case under test).
    await f.relay.stop();
    let updated: Response;
    try {
      updated = await request(f.app)
        .patch('/users/15')
        .set(f.as.admin)
        .send({ name: 'Fifteen Renamed' })
        .expect(200);
    } finally {
      f.relay.start();
    }
    await f.waitForConsumed(
      (e) => e.entity === 'user' && e.entityId === '15' && e.version === updated.body.version,
      'the rename event of user 15',
    );
    expect(f.eventReloads.slice(reloadsBefore)).toEqual([]);
    const read = await request(f.app).get('/users/15').set(f.as.admin).expect(200);
    expect([read.headers['x-cache'], read.body]).toEqual(['hit', updated.body]);
  });

  it('find a read-populated entry current too: populates record the version', async () => {
    await f.userCache.purgeUser(16);
    await request(f.app).get('/users/16').set(f.as.admin).expect(200).expect('X-Cache', 'miss');
    await f.cache.drain();
    const user = (await request(f.app).get('/users/16').set(f.as.admin).expect(200)).body;
    expect(await f.userCache.cachedUserVersion(16)).toBe(user.version);

    // An event of that version (a redelivery, or one whose writer's entry was evicted and read
    // again) is answered from the cache's version alone.
    const reloadsBefore = f.eventReloads.length;
    const event = await f.adminPrisma.$transaction((tx) =>
      enqueueOutboxEvent(
        tx,
        {
          source: 'user',
          entity: 'user',
          action: 'updated',
          entityId: '16',
          version: user.version,
        },
        { table: OUTBOX_TABLE },
      ),
    );
    f.relay.kick();
    await f.waitForConsumed((e) => e.id === event.id, 'the event of user 16');
    expect(f.eventReloads.slice(reloadsBefore)).toEqual([]);
  });
});

describe('Postgres unreachable', () => {
  it('serves cached users as stale and answers 503 otherwise', async () => {
    const cached = await request(f.app).get('/users/6').set(f.as.admin).expect(200);
    await f.cache.drain();
    f.advanceClock(400_000);
    f.dbProxy.cut();
    try {
      const stale = await request(f.app).get('/users/6').set(f.as.admin).expect(200);
      expect(stale.headers['x-cache']).toBe('stale');
      expect(stale.body).toEqual(cached.body);
      await request(f.app).get('/users/7').set(f.as.admin).expect(503);
      await request(f.app)
        .post('/users')
        .set(f.as.admin)
        .send({ email: 'down@example.com', name: 'Down' })
        .expect(503);
      await request(f.app).get('/health/ready').expect(503);
    } finally {
      f.dbProxy.restore();
    }
    await request(f.app).get('/users/15').set(f.as.admin).expect(200);
  });
});
