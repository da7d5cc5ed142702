import { CacheCluster } from '@memshop/cache';
import {
  bearer,
  createAuthKeys,
  startMemcachedCluster,
  type AuthKeys,
  type MemcachedCluster,
} from '@memshop/testing';
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import request from 'supertest';
import { authenticate } from '../auth/authenticate';
import { TokenVerifier } from '../auth/token-verifier';
import { createLogger } from '../logger';
import { createServiceMetrics } from '../metrics';
import { RequestRateLimits, type RateLimitSettings } from '../request-rate-limits';
import { createServiceApp } from '../service-app';

const logger = createLogger({ service: 'test', level: 'silent' });

/** What a service instance builds: its own ring client and limits over the shared memcached nodes. */
function instance(servers: string[], settings: Partial<RateLimitSettings>, service = `rl-${randomUUID()}`) {
  const cluster = new CacheCluster({ servers, opTimeoutMs: 1000 });
  const metrics = createServiceMetrics('test', { defaultMetrics: false });
  const limits = new RequestRateLimits({
    service,
    cluster,
    settings: { windowSeconds: 60, perClient: 1000, perSubject: 1000, ...settings },
    logger,
    metrics,
  });
  return { cluster, limits, metrics, service };
}

describe('RequestRateLimits against real memcached', () => {
  let memcached: MemcachedCluster;
  const clusters: CacheCluster[] = [];
  const track = <T extends { cluster: CacheCluster }>(built: T): T => {
    clusters.push(built.cluster);
    return built;
  };

  beforeAll(async () => {
    memcached = await startMemcachedCluster(2);
  });

  afterAll(async () => {
    for (const cluster of clusters) await cluster.close();
    await memcached?.stop();
  });

  it('shares one client budget between two instances', async () => {
    const a = track(instance(memcached.servers, { perClient: 6 }));
    const b = track(instance(memcached.servers, { perClient: 6 }, a.service));
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await (i % 2 === 0 ? a : b).limits.spend('10.1.2.3'));
    expect(answers).toEqual(Array(6).fill(null));
    const overA = await a.limits.spend('10.1.2.3');
    const overB = await b.limits.spend('10.1.2.3');
    expect([overA?.scope, overB?.scope]).toEqual(['client', 'client']);
    expect(overA!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(overA!.retryAfterSeconds).toBeLessThanOrEqual(60);
    // Another address has a budget of its own.
    expect(await b.limits.spend('10.1.2.4')).toBeNull();
  });

  it('limits a token subject across client addresses', async () => {
    const { limits } = track(instance(memcached.servers, { perSubject: 3 }));
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await limits.spend(`10.9.0.${i}`, '42'));
    expect(answers).toEqual([null, null, null]);
    expect((await limits.spend('10.9.0.99', '42'))?.scope).toBe('subject');
    expect(await limits.spend('10.9.0.99', '43')).toBeNull();
  });

  it('keeps counting in memory, per instance, while memcached is down', async () => {
    const nodes = await startMemcachedCluster(1);
    const { limits, cluster } = track(instance(nodes.servers, { perClient: 4 }));
    try {
      expect(await limits.spend('10.3.3.3')).toBeNull();
      await nodes.stop();
      const answers = [];
      for (let i = 0; i < 5; i += 1) answers.push((await limits.spend('10.3.3.3'))?.scope ?? 'allowed');
      // The insurance limiter starts from zero: four more pass, the fifth is over.
      expect(answers).toEqual(['allowed', 'allowed', 'allowed', 'allowed', 'client']);
    } finally {
      await cluster.close();
      await nodes.stop();
    }
  });
});

describe('rate limits in the service app', () => {
  let memcached: MemcachedCluster;
  let auth: AuthKeys;
  const clusters: CacheCluster[] = [];

  /** An app over fresh budgets, with `authenticate` over the test's keys as composeService wires it. */
  function appWith(settings: Partial<RateLimitSettings>) {
    const built = instance(memcached.servers, settings);
    clusters.push(built.cluster);
    const router = Router();
    router.get('/cached/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    router.get('/uncached/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    router.post('/things', (_req, res) => {
      res.status(201).json({ ok: true });
    });
    router.post('/internal/things', (_req, res) => {
      res.status(201).json({ ok: true });
    });
    return createServiceApp({
      logger,
      metrics: built.metrics,
      routers: [router],
      health: { checks: { database: async () => ({ status: 'up' }) } },
      authenticate: authenticate(verifier, logger),
      rateLimit: { limits: built.limits, uncachedReads: ['/uncached/:id'], exemptPrefixes: ['/internal/'] },
    });
  }
  let verifier: TokenVerifier;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(1);
    auth = await createAuthKeys();
    verifier = new TokenVerifier({ ...auth.env, AUTH_CLOCK_TOLERANCE_SECONDS: 0 });
    await verifier.load();
  });

  afterAll(async () => {
    for (const cluster of clusters) await cluster.close();
    await memcached?.stop();
    await auth?.remove();
  });

  it('answers 429 with Retry-After and a JSON error once writes and uncached reads spent the budget', async () => {
    const app = appWith({ perClient: 2 });
    await request(app).post('/things').send({}).expect(201);
    await request(app).get('/uncached/1').expect(200);
    const over = await request(app).post('/things').send({}).expect(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(over.body).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(/^too many requests for this client address; retry after \d+ s$/),
      },
    });
    await request(app).get('/uncached/2').expect(429);
    // Matched as Express matches the route: any case, a trailing slash, and HEAD as GET.
    await request(app).get('/UNCACHED/3/').expect(429);
    await request(app).head('/uncached/4').expect(429);
    // Cached reads, probes and exempt paths are never limited.
    for (let i = 0; i < 5; i += 1) await request(app).get(`/cached/${i}`).expect(200);
    for (let i = 0; i < 5; i += 1) await request(app).post('/internal/things').send({}).expect(201);
    await request(app).get('/health/ready').expect(200);
  });

  it("spends the subject budget by a verified token's sub, whatever the client budget", async () => {
    const app = appWith({ perClient: 1000, perSubject: 2 });
    const user7 = bearer(await auth.userToken(7));
    await request(app).post('/things').set(user7).send({}).expect(201);
    // Another token of the same subject spends from the same budget.
    await request(app)
      .get('/uncached/1')
      .set(bearer(await auth.adminToken(7)))
      .expect(200);
    const over = await request(app).post('/things').set(user7).send({}).expect(429);
    expect(over.body.error.message).toMatch(/^too many requests for this token subject; retry after \d+ s$/);
    // Another subject, and an anonymous request from the same address, still have budget.
    await request(app)
      .post('/things')
      .set(bearer(await auth.userToken(8)))
      .send({})
      .expect(201);
    await request(app).post('/things').send({}).expect(201);
  });

  it("never lets a forged token's sub spend that subject's budget; the client budget counts it before verification", async () => {
    const app = appWith({ perClient: 3, perSubject: 1 });
    const forged = bearer(await auth.userToken(9, { forged: true }));
    await request(app).post('/things').set(forged).send({}).expect(401);
    await request(app).post('/things').set(forged).send({}).expect(401);
    // Subject 9's budget (1) is untouched by the forgeries.
    await request(app)
      .post('/things')
      .set(bearer(await auth.userToken(9)))
      .send({})
      .expect(201);
    // The address's budget (3) is spent: further tokens are turned away without a signature check.
    await request(app).post('/things').set(forged).send({}).expect(429);
  });
});
