/**
 * Bounded resource use, through HTTP against two real catalog processes' worth of wiring (the
 * composition root, listening on real ports) sharing one Postgres database and three memcached
 * nodes: the rate limits count across both instances, keep answering in memory when memcached
 * is gone, category pages stay on their grid, and the admin port carries what the public port
 * no longer shows. Nothing here may answer 5xx, and both instances are ready afterwards.
 */
import { deployMigrations } from '@memshop/migrate';
import { createLogger, createPrismaClient, createServiceMetrics, parseConfig } from '@memshop/service-kit';
import {
  createAuthKeys,
  loadedMachineMemcachedEnv,
  rabbitUrl,
  withTestInfrastructure,
  type MemcachedCluster,
  type TestInfrastructure,
} from '@memshop/testing';
import { createCatalogService } from '../catalog';
import { catalogConfigSchema } from '../config';
import { PrismaClient } from '../prisma/generated/client';
import { seedCatalog } from '../prisma/seed';
import { SCHEMA_PATH } from './catalog-fixture';

const PER_CLIENT = 6;

interface Instance {
  url: string;
  adminUrl: string;
}

let infra: TestInfrastructure;
let memcached: MemcachedCluster;
let a: Instance;
let b: Instance;
const statuses: number[] = [];

async function send(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(10_000),
  });
  statuses.push(response.status);
  return response;
}

/** A write that needs no data: without a token it is a 401 before any query, but it spends the client budget. */
const write = (instance: Instance) => send(instance.url, '/categories/1', { method: 'PATCH', body: '{}' });

beforeAll(async () => {
  await withTestInfrastructure(async (built) => {
    infra = built;
    const database = await infra.database('catalog_limits', (databaseUrl) =>
      deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl }),
    );
    const seeder = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    await seedCatalog(seeder, { products: 12 });
    await seeder.$disconnect();
    memcached = await infra.memcached(3);
    const auth = await createAuthKeys();
    infra.cleanup.add(() => auth.remove());
    const start = async (name: string): Promise<Instance> => {
      const { exchange, queue } = infra.rabbit({ exchange: 'limits-x', queue: `limits-${name}` });
      const config = parseConfig(catalogConfigSchema, {
        ...auth.envFor('catalog'),
        DATABASE_URL: database.url,
        MEMCACHED_SERVERS: memcached.servers.join(','),
        RABBITMQ_URL: rabbitUrl(),
        INVALIDATION_EXCHANGE: exchange,
        INVALIDATION_QUEUE: queue,
        CACHE_AUDIT_SAMPLE_SIZE: '0',
        PRODUCT_VIEWS_FLUSH_INTERVAL_MS: '3600000',
        STOCK_RESERVATION_SWEEP_INTERVAL_MS: '3600000',
        RATE_LIMIT_PER_CLIENT: String(PER_CLIENT),
        ...loadedMachineMemcachedEnv,
      });
      const service = createCatalogService(config, {
        logger: createLogger({
          service: `catalog-${name}`,
          level: process.env['TEST_LOG_LEVEL'] ?? 'silent',
        }),
        metrics: createServiceMetrics('catalog', { defaultMetrics: false }),
      });
      infra.cleanup.add(() => service.stop());
      await service.start();
      const running = await service.listen({
        port: 0,
        adminPort: 0,
        host: '127.0.0.1',
        handleSignals: false,
        shutdownTimeoutMs: 0,
      });
      return { url: running.url, adminUrl: running.admin!.url };
    };
    a = await start('a');
    b = await start('b');
  });
}, 120_000);

afterAll(async () => {
  await infra?.close();
});

describe('the admin port', () => {
  it('serves /metrics and the detailed readiness; the public port answers readiness with the status alone', async () => {
    for (const instance of [a, b]) {
      const bare = await send(instance.url, '/health/ready');
      expect({ status: bare.status, body: await bare.json() }).toEqual({
        status: 200,
        body: { status: 'ready' },
      });
      expect((await send(instance.url, '/metrics')).status).toBe(404);

      const detailed = await send(instance.adminUrl, '/health/ready');
      const body = (await detailed.json()) as {
        status: string;
        checks: Record<string, { detail?: unknown }>;
      };
      expect(detailed.status).toBe(200);
      expect(Object.keys(body.checks).sort()).toEqual(['database', 'memcached', 'rabbitmq']);
      expect(JSON.stringify(body.checks['memcached']!.detail)).toContain(memcached.servers[0]);

      const metrics = await send(instance.adminUrl, '/metrics');
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE memshop_rate_limit_rejections_total counter');
    }
  });
});

describe('category pages', () => {
  it('answers 400 with a clear message off the page grid, 200 on it', async () => {
    for (const [query, message] of [
      ['limit=25', 'limit: must be one of 10, 20, 50, 100'],
      ['limit=10&offset=15', 'offset: must be a multiple of limit'],
      ['limit=100&offset=100000', 'offset: must be at most 1000'],
    ] as const) {
      const response = await send(a.url, `/categories/1/products?${query}`);
      const body = (await response.json()) as { error: { message: string } };
      expect({ query, status: response.status, message: body.error.message }).toEqual({
        query,
        status: 400,
        message,
      });
    }
    expect((await send(a.url, '/categories/1/products?limit=50&offset=50')).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('spend one budget across both instances, then answer 429 with Retry-After; cached reads go on', async () => {
    const spent = [];
    for (let i = 0; i < PER_CLIENT; i += 1) spent.push((await write(i % 2 === 0 ? a : b)).status);
    expect(spent.filter((status) => status === 429 || status >= 500)).toEqual([]);

    for (const instance of [a, b]) {
      const over = await write(instance);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await over.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    }
    // order-service's stock calls are not limited here: the user's POST /orders paid for them
    // (without order-service's token the route's guard answers, not the limiter).
    expect((await send(b.url, '/stock/releases', { method: 'POST', body: '{}' })).status).toBe(401);
    // Cached reads are not limited.
    for (let i = 0; i < 3 * PER_CLIENT; i += 1) expect((await send(a.url, '/products/1')).status).toBe(200);
    const metrics = await (await send(a.adminUrl, '/metrics')).text();
    expect(metrics).toMatch(/memshop_rate_limit_rejections_total\{[^}]*scope="client"[^}]*\} [1-9]/);
  });

  it('still answers with memcached down: each instance counts on its own, in memory', async () => {
    for (const node of memcached.nodes) await node.stop();
    try {
      for (const instance of [a, b]) {
        const answers = [];
        for (let i = 0; i < PER_CLIENT; i += 1) answers.push((await write(instance)).status);
        expect(answers.filter((status) => status === 429 || status >= 500)).toEqual([]);
        expect((await write(instance)).status).toBe(429);
      }
      expect((await send(a.url, '/health/ready')).status).toBe(200);
    } finally {
      for (const node of memcached.nodes) await node.start();
    }
  });

  it('left both instances ready and answered nothing with a 5xx', async () => {
    for (const instance of [a, b]) {
      expect((await send(instance.url, '/health/ready')).status).toBe(200);
      expect((await send(instance.adminUrl, '/health/ready')).status).toBe(200);
    }
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });
});
