/**
 * The OpenAPI document against the running app: the served document is the committed
 * docs/openapi/user.json, and every documented operation answers as documented. The fixture's
 * recorder checks each response here (and in every other user suite) against the document;
 * close() fails on any mismatch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startUserFixture, type UserFixture } from './user-fixture';

let f: UserFixture;

beforeAll(async () => {
  f = await startUserFixture();
});

afterAll(async () => {
  await f?.close();
});

const COMMITTED = path.join(__dirname, '..', '..', '..', '..', 'docs', 'openapi', 'user.json');

describe('the OpenAPI document', () => {
  it('is served at /openapi.json and equals the committed docs/openapi/user.json (run `npm run openapi`)', async () => {
    const res = await request(f.app).get('/openapi.json').expect(200);
    expect(res.body).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
  });

  it('is what every user operation answers', async () => {
    const app = () => request(f.app);
    await app().get('/health/live').expect(200);
    await app().get('/health/ready').expect(200);
    await app().get('/metrics').expect(404);
    await app().get('/docs').expect(200);

    await app().get('/users/1').set(f.as.admin).expect(200);
    await app().get('/users/0').set(f.as.admin).expect(400);
    await app().get('/users/99999').set(f.as.admin).expect(404);

    const created = await app()
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'contract@example.com', name: 'Contract', locale: 'en' })
      .expect(201);
    await app()
      .post('/users')
      .set(f.as.admin)
      .send({ email: 'contract@example.com', name: 'Again' })
      .expect(409);
    await app().post('/users').set(f.as.admin).send({ email: 'not an email', name: 'X' }).expect(400);
    await app()
      .post('/users')
      .set(f.as.admin)
      .set('content-type', 'application/json')
      .send(`{"name":"${'x'.repeat(200_000)}"}`)
      .expect(413);
    await app().patch(`/users/${created.body.id}`).set(f.as.admin).send({ name: 'Renamed' }).expect(200);
    await app().patch('/users/99999').set(f.as.admin).send({ name: 'Nobody' }).expect(404);
    await app().delete(`/users/${created.body.id}`).set(f.as.admin).expect(204);
    await app().delete(`/users/${created.body.id}`).set(f.as.admin).expect(404);
    await app().get('/admin/cache-audit?sample=5').set(f.as.admin).expect(200);
    await app().get('/admin/cache-audit?sample=5').expect(401);
    await app().get('/admin/cache-audit?sample=5').set(f.as.orderService).expect(403);
    const source = await app().get('/admin/source/users?ids=1,99999').set(f.as.orderService).expect(200);
    expect(source.body.missing).toEqual([99999]);
    await app().get('/admin/source/users?ids=x').set(f.as.admin).expect(400);

    expect(f.contract.unexercisedOperations()).toEqual([]);
    expect(f.contract.violations).toEqual([]);
  });
});
