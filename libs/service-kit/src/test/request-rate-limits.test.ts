import { CacheCluster } from '@memshop/cache';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import request from 'supertest';
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
  let cluster: CacheCluster;
  let app: ReturnType<typeof createServiceApp>;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(1);
    const built = instance(memcached.servers, { perClient: 2 });
    cluster = built.cluster;
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
    app = createServiceApp({
      logger,
      metrics: built.metrics,
      routers: [router],
      health: { checks: { database: async () => ({ status: 'up' }) } },
      rateLimit: {
        limits: built.limits,
        uncachedReads: ['/uncached/:id'],
        exemptPrefixes: ['/internal/'],
        subjectOf: async (req) => {
          const subject = req.headers['x-test-subject'];
          if (subject === 'forged') throw new Error('bad signature');
          return typeof subject === 'string' ? subject : undefined;
        },
      },
    });
  });

  afterAll(async () => {
    await cluster?.close();
    await memcached?.stop();
  });

  it('answers 429 with Retry-After and a JSON error once writes and uncached reads spent the budget', async () => {
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
    // Cached reads and probes are never limited.
    for (let i = 0; i < 5; i += 1) await request(app).get(`/cached/${i}`).expect(200);
    await request(app).get('/health/ready').expect(200);
  });

  it('spends nothing on exempt paths, and a token that fails verification counts as anonymous', async () => {
    for (let i = 0; i < 5; i += 1) await request(app).post('/internal/things').send({}).expect(201);
    // The client budget (2) is spent by the test above; a failing subjectOf does not turn that into a 5xx.
    await request(app).post('/things').set('x-test-subject', 'forged').send({}).expect(429);
  });
});
