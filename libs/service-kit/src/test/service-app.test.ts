import { Writable } from 'node:stream';
import { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { createAdminApp } from '../admin-app';
import { setCacheHeader, combineCacheStatus } from '../cache-header';
import { ConflictError, NotFoundError } from '../errors';
import { createLogger } from '../logger';
import { createServiceMetrics } from '../metrics';
import { idListSchema, idSchema } from '../request-schemas';
import { createServiceApp } from '../service-app';

function buildApp(databaseUp = true) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ service: 'test', destination });
  const metrics = createServiceMetrics('test', { defaultMetrics: false });
  const router = Router();
  router.get('/things/:id', (req, res) => {
    const id = idSchema.parse(req.params.id);
    if (id === 404) throw new NotFoundError(`thing ${id} not found`);
    setCacheHeader(res, 'hit');
    res.json({ id });
  });
  router.get('/things', (req, res) => {
    res.json({ ids: idListSchema(3).parse(req.query.ids) });
  });
  router.post('/things', (req, res) => {
    const body = z.object({ name: z.string().min(1) }).parse(req.body);
    if (body.name === 'dup') throw new ConflictError('name taken');
    res.status(201).json(body);
  });
  router.get('/db-down', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  router.get('/bug', () => {
    throw new TypeError('oops');
  });
  const health = {
    checks: {
      database: async () => {
        if (!databaseUp) throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
        return { status: 'up' as const };
      },
      memcached: async () => ({ status: 'degraded' as const, detail: [{ server: '10.0.0.8:11211' }] }),
    },
  };
  const app = createServiceApp({ logger, metrics, bodyLimit: '1kb', routers: [router], health });
  const adminApp = createAdminApp({ logger, metrics, health });
  return { app, adminApp, lines, metrics };
}

describe('createServiceApp', () => {
  it('maps errors to 400/404/409/413/503/500', async () => {
    const { app, lines } = buildApp();
    await request(app).get('/things/7').expect(200).expect('X-Cache', 'hit');
    const bad = await request(app).get('/things/7abc').expect(400);
    expect(bad.body.error.message).toMatch(/positive integer id/);
    await request(app).get('/things/99999999999').expect(400);
    await request(app).get('/things/404').expect(404);
    await request(app).get('/nowhere').expect(404);
    expect((await request(app).get('/things?ids=1,2,2').expect(200)).body.ids).toEqual([1, 2]);
    await request(app).get('/things?ids=1,2,3,4').expect(400);
    await request(app).get('/things').expect(400);
    await request(app).get('/things?ids=1,,2').expect(400);
    await request(app).post('/things').send({ name: 'dup' }).expect(409);
    await request(app).post('/things').send({ name: 'x' }).expect(201);
    await request(app).post('/things').send({}).expect(400);
    await request(app).post('/things').set('Content-Type', 'application/json').send('{"name":').expect(400);
    await request(app).post('/things').set('Content-Type', 'text/plain').send('name').expect(400);
    const big = await request(app)
      .post('/things')
      .send({ name: 'x'.repeat(2000) })
      .expect(413);
    expect(big.body.error.code).toBe('payload_too_large');
    await request(app).get('/db-down').expect(503);
    await request(app).get('/bug').expect(500);
    expect(lines.filter((l) => l.includes('request failed'))).toHaveLength(2);
  });

  it('answers readiness on the public port with the status alone, 503 when the database is down', async () => {
    const up = await request(buildApp(true).app).get('/health/ready').expect(200);
    expect(up.body).toEqual({ status: 'ready' });
    const down = await request(buildApp(false).app).get('/health/ready').expect(503);
    expect(down.body).toEqual({ status: 'not_ready' });
    expect(down.text).not.toContain('10.0.0');
    await request(buildApp(false).app).get('/health/live').expect(200);
    await request(buildApp(true).app).get('/metrics').expect(404);
  });

  it('reports every check with its detail on the admin app', async () => {
    const up = await request(buildApp(true).adminApp).get('/health/ready').expect(200);
    expect(up.body).toEqual({
      status: 'ready',
      degraded: true,
      checks: {
        database: { status: 'up' },
        memcached: { status: 'degraded', detail: [{ server: '10.0.0.8:11211' }] },
      },
    });
    const down = await request(buildApp(false).adminApp).get('/health/ready').expect(503);
    expect(down.body.checks.database).toEqual({
      status: 'down',
      detail: 'connect ECONNREFUSED 10.0.0.7:5432',
    });
    await request(buildApp(false).adminApp).get('/health/live').expect(200);
  });

  it('records http_request_duration_seconds by route pattern', async () => {
    const { app, adminApp } = buildApp();
    await request(app).get('/things/1').expect(200);
    await request(app).get('/things/2').expect(200);
    const text = (await request(adminApp).get('/metrics').expect(200)).text;
    expect(text).toMatch(
      /http_request_duration_seconds_count\{service="test",method="GET",route="\/things\/:id",status_code="200"\} 2/,
    );
  });
});

describe('combineCacheStatus', () => {
  it('keeps the least fresh status', () => {
    expect(combineCacheStatus(['hit', 'hit'])).toBe('hit');
    expect(combineCacheStatus(['hit', 'miss'])).toBe('miss');
    expect(combineCacheStatus(['miss', 'stale', 'hit'])).toBe('stale');
  });
});
