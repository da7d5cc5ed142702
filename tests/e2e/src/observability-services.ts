/**
 * The three services in this test process, built by the composition roots their main.ts files use (default
 * metrics on, the view flusher running), against real servers: three memcached nodes shared by
 * all (as in compose), a fresh migrated and seeded database per service, and a RabbitMQ exchange
 * and queues unique to the run. In-process so a test can read a service's cache and metrics
 * objects and so one tracing SDK sees the spans of all three. close() removes everything.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Cache, CacheCluster, InvalidationBus } from '@memshop/cache';
import { deployMigrations } from '@memshop/migrate';
import {
  createLogger,
  createPrismaClient,
  parseConfig,
  type Logger,
  type ServiceHandle,
  type ServiceMetrics,
} from '@memshop/service-kit';
import {
  createAuthKeys,
  relaxedRateLimitEnv,
  createTestDatabase,
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  uniqueName,
  withDeadLetterObjects,
  type AuthKeys,
  type MemcachedCluster,
} from '@memshop/testing';
import { createCatalogService } from '../../../apps/catalog/src/catalog';
import { catalogConfigSchema } from '../../../apps/catalog/src/config';
import type { CatalogCache } from '../../../apps/catalog/src/data/catalog-cache';
import { PrismaClient as CatalogPrisma } from '../../../apps/catalog/src/prisma/generated/client';
import { seedCatalog } from '../../../apps/catalog/src/prisma/seed';
import { orderConfigSchema } from '../../../apps/order/src/config';
import { createOrderService, type OrderService } from '../../../apps/order/src/order';
import { userConfigSchema } from '../../../apps/user/src/config';
import type { UserCache } from '../../../apps/user/src/data/user-cache';
import { PrismaClient as UserPrisma } from '../../../apps/user/src/prisma/generated/client';
import { seedUsers } from '../../../apps/user/src/prisma/seed';
import { createUserService } from '../../../apps/user/src/user';

const APPS = path.join(__dirname, '..', '..', '..', 'apps');

export interface CatalogInstance {
  url: string;
  /** The admin port: /metrics and the detailed /health/ready. */
  adminUrl: string;
  cache: Cache;
  cluster: CacheCluster;
  catalogCache: CatalogCache;
  metrics: ServiceMetrics;
  bus: InvalidationBus;
  queue: string;
  adminPrisma: CatalogPrisma;
}

export interface UserInstance {
  url: string;
  /** The admin port: /metrics and the detailed /health/ready. */
  adminUrl: string;
  cache: Cache;
  userCache: UserCache;
  metrics: ServiceMetrics;
  queue: string;
}

export interface OrderInstance {
  url: string;
  /** The admin port: /metrics and the detailed /health/ready. */
  adminUrl: string;
  service: OrderService;
  queue: string;
}

export interface InProcessServices {
  catalog: CatalogInstance;
  user: UserInstance;
  order: OrderInstance;
  memcached: MemcachedCluster;
  exchange: string;
  /** The keys all three trust: tokens for users, admins and order-service. */
  auth: AuthKeys;
  /** Log lines at warn and above from all three services (a 5xx is logged with its error). */
  logs: string[];
  close(): Promise<void>;
}

export interface StartServicesOptions {
  products?: number;
  users?: number;
}

/** Starts catalog, user and order in this process; on any failure what was started is removed. */
export async function startInProcessServices(opts: StartServicesOptions = {}): Promise<InProcessServices> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8').trim());
      done();
    },
  });
  const loggerFor = (service: string) =>
    createLogger({ service, level: process.env['TEST_LOG_LEVEL'] ?? 'warn', destination });

  try {
    const memcached = await startMemcachedCluster(3);
    cleanups.push(() => memcached.stop());
    const auth = await createAuthKeys();
    cleanups.push(() => auth.remove());
    const exchange = uniqueName('obs-x');
    const queues = {
      catalog: uniqueName('obs-catalog'),
      user: uniqueName('obs-user'),
      order: uniqueName('obs-order'),
    };
    cleanups.push(() =>
      deleteRabbitObjects(withDeadLetterObjects({ queues: Object.values(queues), exchanges: [exchange] })),
    );

    const [catalogDb, userDb, orderDb] = await Promise.all([
      createTestDatabase('obs_catalog'),
      createTestDatabase('obs_user'),
      createTestDatabase('obs_order'),
    ]);
    cleanups.push(
      () => catalogDb.drop(),
      () => userDb.drop(),
      () => orderDb.drop(),
    );
    await deployMigrations({
      schemaPath: path.join(APPS, 'catalog/src/prisma/schema.prisma'),
      databaseUrl: catalogDb.url,
    });
    await deployMigrations({
      schemaPath: path.join(APPS, 'user/src/prisma/schema.prisma'),
      databaseUrl: userDb.url,
    });
    await deployMigrations({
      schemaPath: path.join(APPS, 'order/src/prisma/schema.prisma'),
      databaseUrl: orderDb.url,
    });

    const catalog = await startCatalog({
      databaseUrl: catalogDb.url,
      servers: memcached.servers,
      exchange,
      auth,
      queue: queues.catalog,
      products: opts.products ?? 30,
      logger: loggerFor('catalog'),
      cleanups,
    });
    const user = await startUser({
      databaseUrl: userDb.url,
      servers: memcached.servers,
      exchange,
      auth,
      queue: queues.user,
      users: opts.users ?? 20,
      logger: loggerFor('user'),
      cleanups,
    });

    const service = createOrderService(
      parseConfig(orderConfigSchema, {
        ...serviceEnv({
          databaseUrl: orderDb.url,
          servers: memcached.servers,
          exchange,
          queue: queues.order,
        }),
        ...auth.envFor('order'),
        CATALOG_URL: catalog.url,
        USER_URL: user.url,
      }),
      { logger: loggerFor('order') },
    );
    const orderHttp = await listen(service, cleanups);
    if (!(await service.bus.waitUntilConnected(10_000))) throw new Error('order did not connect to RabbitMQ');

    return {
      catalog,
      user,
      order: { url: orderHttp.url, adminUrl: orderHttp.admin!.url, service, queue: queues.order },
      memcached,
      exchange,
      auth,
      logs,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Starts a built service and serves it on a free port, as main.ts does on its own. */
async function listen(service: ServiceHandle, cleanups: Array<() => Promise<unknown>>) {
  cleanups.push(() => service.stop());
  await service.start();
  return service.listen({
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    handleSignals: false,
    shutdownTimeoutMs: 2000,
  });
}

interface StartOne {
  databaseUrl: string;
  servers: string[];
  exchange: string;
  queue: string;
  auth: AuthKeys;
  logger: Logger;
  cleanups: Array<() => Promise<unknown>>;
}

/** What main.ts would read from the env. */
function serviceEnv(o: Pick<StartOne, 'databaseUrl' | 'servers' | 'exchange' | 'queue'>) {
  return {
    DATABASE_URL: o.databaseUrl,
    MEMCACHED_SERVERS: o.servers.join(','),
    RABBITMQ_URL: rabbitUrl(),
    INVALIDATION_EXCHANGE: o.exchange,
    INVALIDATION_QUEUE: o.queue,
    ...relaxedRateLimitEnv,
  };
}

/** catalog built by its composition root, on a seeded database. */
async function startCatalog(o: StartOne & { products: number }): Promise<CatalogInstance> {
  const adminPrisma = createPrismaClient(CatalogPrisma, { databaseUrl: o.databaseUrl });
  o.cleanups.push(() => adminPrisma.$disconnect());
  await seedCatalog(adminPrisma, { products: o.products });

  const config = parseConfig(catalogConfigSchema, { ...serviceEnv(o), ...o.auth.envFor('catalog') });
  const service = createCatalogService(config, { logger: o.logger });
  const running = await listen(service, o.cleanups);
  if (!(await service.bus.waitUntilConnected(10_000))) throw new Error('catalog did not connect to RabbitMQ');
  const { cache, cluster, catalogCache, metrics, bus } = service;
  return {
    url: running.url,
    adminUrl: running.admin!.url,
    cache,
    cluster,
    catalogCache,
    metrics,
    bus,
    queue: o.queue,
    adminPrisma,
  };
}

/** user-service built by its composition root, on a seeded database. */
async function startUser(o: StartOne & { users: number }): Promise<UserInstance> {
  const adminPrisma = createPrismaClient(UserPrisma, { databaseUrl: o.databaseUrl });
  o.cleanups.push(() => adminPrisma.$disconnect());
  await seedUsers(adminPrisma, { users: o.users });

  const config = parseConfig(userConfigSchema, { ...serviceEnv(o), ...o.auth.envFor('user') });
  const service = createUserService(config, { logger: o.logger });
  const running = await listen(service, o.cleanups);
  if (!(await service.bus.waitUntilConnected(10_000))) throw new Error('user did not connect to RabbitMQ');
  const { cache, userCache, metrics } = service;
  return { url: running.url, adminUrl: running.admin!.url, cache, userCache, metrics, queue: o.queue };
}

/** One scrape of `GET /metrics` (on a service's admin port), in the Prometheus text format. */
export class MetricsScrape {
  /** family name -> type, from the `# TYPE` lines */
  readonly types = new Map<string, string>();
  readonly #samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        if (name && type) this.types.set(name, type);
        continue;
      }
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
      if (!match) continue;
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[pair[1]!] = pair[2]!;
      }
      this.#samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
  }

  static async read(adminUrl: string): Promise<MetricsScrape> {
    const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`GET ${adminUrl}/metrics answered ${response.status}`);
    return new MetricsScrape(await response.text());
  }

  /** Samples of `name` whose labels include every one in `labels`. */
  samples(name: string, labels: Record<string, string> = {}) {
    return this.#samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** Sum of the matching samples (0 when there is none: a counter never incremented). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((sum, s) => sum + s.value, 0);
  }
}
