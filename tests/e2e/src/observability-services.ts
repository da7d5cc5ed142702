/**
 * The three services in this test process, wired as their main.ts files wire them (default
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
  createCacheRuntime,
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  parseConfig,
  startService,
  type CacheRuntimeConfig,
  type Logger,
  type RunningService,
  type ServiceMetrics,
} from '@memshop/service-kit';
import {
  createTestDatabase,
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  uniqueName,
  withDeadLetterObjects,
  type MemcachedCluster,
} from '@memshop/testing';
import { createApp as createCatalogApp } from '../../../apps/catalog/src/app';
import { CatalogCache } from '../../../apps/catalog/src/data/catalog-cache';
import { CatalogRepository } from '../../../apps/catalog/src/data/catalog-repository';
import { ProductViewFlusher } from '../../../apps/catalog/src/data/product-view-flusher';
import { CatalogService } from '../../../apps/catalog/src/domain/catalog-service';
import {
  CATALOG_EVENT_BINDINGS,
  createCatalogEventHandler,
} from '../../../apps/catalog/src/events/catalog-events';
import { PrismaClient as CatalogPrisma } from '../../../apps/catalog/src/prisma/generated/client';
import { seedCatalog } from '../../../apps/catalog/src/prisma/seed';
import { orderConfigSchema } from '../../../apps/order/src/config';
import { createOrderService, type OrderService } from '../../../apps/order/src/order-service';
import { createApp as createUserApp } from '../../../apps/user/src/app';
import { UserCache } from '../../../apps/user/src/data/user-cache';
import { UserRepository } from '../../../apps/user/src/data/user-repository';
import { UserService } from '../../../apps/user/src/domain/user-service';
import { createUserEventHandler, USER_EVENT_BINDINGS } from '../../../apps/user/src/events/user-events';
import { PrismaClient as UserPrisma } from '../../../apps/user/src/prisma/generated/client';
import { seedUsers } from '../../../apps/user/src/prisma/seed';

const APPS = path.join(__dirname, '..', '..', '..', 'apps');

export interface CatalogInstance {
  url: string;
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
  cache: Cache;
  userCache: UserCache;
  metrics: ServiceMetrics;
  queue: string;
}

export interface OrderInstance {
  url: string;
  service: OrderService;
  queue: string;
}

export interface InProcessServices {
  catalog: CatalogInstance;
  user: UserInstance;
  order: OrderInstance;
  memcached: MemcachedCluster;
  exchange: string;
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
      queue: queues.catalog,
      products: opts.products ?? 30,
      logger: loggerFor('catalog'),
      cleanups,
    });
    const user = await startUser({
      databaseUrl: userDb.url,
      servers: memcached.servers,
      exchange,
      queue: queues.user,
      users: opts.users ?? 20,
      logger: loggerFor('user'),
      cleanups,
    });

    const orderLogger = loggerFor('order');
    const service = createOrderService(
      parseConfig(orderConfigSchema, {
        DATABASE_URL: orderDb.url,
        MEMCACHED_SERVERS: memcached.servers.join(','),
        RABBITMQ_URL: rabbitUrl(),
        CATALOG_URL: catalog.url,
        USER_URL: user.url,
        INVALIDATION_EXCHANGE: exchange,
        INVALIDATION_QUEUE: queues.order,
      }),
      { logger: orderLogger },
    );
    await service.start();
    const orderHttp = await listen(service.app, orderLogger, service.closers, cleanups);
    if (!(await service.bus.waitUntilConnected(10_000))) throw new Error('order did not connect to RabbitMQ');

    return {
      catalog,
      user,
      order: { url: orderHttp.url, service, queue: queues.order },
      memcached,
      exchange,
      logs,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function listen(
  app: Parameters<typeof startService>[0]['app'],
  logger: Logger,
  closers: Parameters<typeof startService>[0]['closers'],
  cleanups: Array<() => Promise<unknown>>,
): Promise<RunningService> {
  const running = await startService({
    app,
    port: 0,
    host: '127.0.0.1',
    logger,
    closers,
    handleSignals: false,
    shutdownTimeoutMs: 2000,
  });
  cleanups.push(() => running.stop());
  return running;
}

interface StartOne {
  databaseUrl: string;
  servers: string[];
  exchange: string;
  queue: string;
  logger: Logger;
  cleanups: Array<() => Promise<unknown>>;
}

/** What main.ts would read from the env, for the cache runtime. */
function cacheRuntimeConfig(o: StartOne): CacheRuntimeConfig {
  return {
    MEMCACHED_SERVERS: o.servers,
    MEMCACHED_GUTTER_SERVERS: [],
    RABBITMQ_URL: rabbitUrl(),
    INVALIDATION_EXCHANGE: o.exchange,
    INVALIDATION_QUEUE: o.queue,
    INVALIDATION_DELIVERY_LIMIT: 20,
    CACHE_AUDIT_SAMPLE_SIZE: 20,
    CACHE_AUDIT_INTERVAL_MS: 30_000,
    CACHE_AUDIT_GRACE_MS: 5000,
  };
}

/** apps/catalog/src/main.ts without the env: same objects, same order. */
async function startCatalog(o: StartOne & { products: number }): Promise<CatalogInstance> {
  const adminPrisma = createPrismaClient(CatalogPrisma, { databaseUrl: o.databaseUrl });
  o.cleanups.push(() => adminPrisma.$disconnect());
  await seedCatalog(adminPrisma, { products: o.products });

  const metrics = createServiceMetrics('catalog');
  const prisma = createPrismaClient(CatalogPrisma, { databaseUrl: o.databaseUrl, logger: o.logger });
  const runtime = createCacheRuntime({
    service: 'catalog',
    config: cacheRuntimeConfig(o),
    logger: o.logger,
    registry: metrics.registry,
    prisma,
    bindings: CATALOG_EVENT_BINDINGS,
  });
  const { cluster, cache, bus, relay } = runtime;
  const repository = new CatalogRepository(prisma);
  const catalogCache = new CatalogCache({ cache, schemaVersion: 1 });
  const viewFlusher = new ProductViewFlusher({
    cluster,
    store: (deltas) => repository.addProductViews(deltas),
    schemaVersion: 1,
    logger: o.logger,
  });
  const catalog = new CatalogService({
    repository,
    cache: catalogCache,
    afterCommit: (events) => relay.kick(events),
    recordView: (id) => viewFlusher.recordView(id),
    logger: o.logger,
  });
  bus.subscribe(createCatalogEventHandler({ repository, cache: catalogCache, logger: o.logger }));
  const app = createCatalogApp({
    catalog,
    logger: o.logger,
    metrics,
    healthChecks: runtime.healthChecks,
  });
  await bus.start();
  relay.start();
  viewFlusher.start();
  const running = await listen(
    app,
    o.logger,
    [{ name: 'view-flusher', close: () => viewFlusher.close() }, ...runtime.closers],
    o.cleanups,
  );
  if (!(await bus.waitUntilConnected(10_000))) throw new Error('catalog did not connect to RabbitMQ');
  return { url: running.url, cache, cluster, catalogCache, metrics, bus, queue: o.queue, adminPrisma };
}

/** apps/user/src/main.ts without the env. */
async function startUser(o: StartOne & { users: number }): Promise<UserInstance> {
  const adminPrisma = createPrismaClient(UserPrisma, { databaseUrl: o.databaseUrl });
  o.cleanups.push(() => adminPrisma.$disconnect());
  await seedUsers(adminPrisma, { users: o.users });

  const metrics = createServiceMetrics('user');
  const prisma = createPrismaClient(UserPrisma, { databaseUrl: o.databaseUrl, logger: o.logger });
  const runtime = createCacheRuntime({
    service: 'user',
    config: cacheRuntimeConfig(o),
    logger: o.logger,
    registry: metrics.registry,
    prisma,
    bindings: USER_EVENT_BINDINGS,
  });
  const { cache, bus, relay } = runtime;
  const repository = new UserRepository(prisma);
  const userCache = new UserCache({ cache, schemaVersion: 1 });
  const users = new UserService({
    repository,
    cache: userCache,
    afterCommit: (events) => relay.kick(events),
  });
  bus.subscribe(createUserEventHandler({ repository, cache: userCache, logger: o.logger }));
  const app = createUserApp({
    users,
    logger: o.logger,
    metrics,
    healthChecks: runtime.healthChecks,
  });
  await bus.start();
  relay.start();
  const running = await listen(app, o.logger, runtime.closers, o.cleanups);
  if (!(await bus.waitUntilConnected(10_000))) throw new Error('user did not connect to RabbitMQ');
  return { url: running.url, cache, userCache, metrics, queue: o.queue };
}

/** One scrape of `GET /metrics`, in the Prometheus text format. */
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

  static async read(baseUrl: string): Promise<MetricsScrape> {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}`);
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
