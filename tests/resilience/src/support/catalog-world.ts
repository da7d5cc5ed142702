import { deployMigrations } from '@memshop/migrate';
import type { Server } from 'node:http';
import path from 'node:path';
import {
  Cache,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
} from '@memshop/cache';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  memcachedCheck,
  rabbitmqCheck,
  type ServiceMetrics,
} from '@memshop/service-kit';
import {
  rabbitUrl,
  withTestInfrastructure,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import type { Express } from 'express';
import { createApp } from '../../../../apps/catalog/src/app';
import { CatalogCache } from '../../../../apps/catalog/src/data/catalog-cache';
import { CatalogRepository, type ProductWrite } from '../../../../apps/catalog/src/data/catalog-repository';
import { CatalogService } from '../../../../apps/catalog/src/domain/catalog-service';
import type { Product, ProductChanges } from '../../../../apps/catalog/src/domain/product';
import {
  CATALOG_EVENT_BINDINGS,
  createCatalogEventHandler,
} from '../../../../apps/catalog/src/events/catalog-events';
import { PrismaClient } from '../../../../apps/catalog/src/prisma/generated/client';
import { seedCatalog } from '../../../../apps/catalog/src/prisma/seed';
import { counterValue } from './prom-counters';

export const CATALOG_SCHEMA_PATH = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'apps',
  'catalog',
  'src',
  'prisma',
  'schema.prisma',
);

const logLevel = () => process.env['TEST_LOG_LEVEL'] ?? 'silent';

/**
 * What several catalog "processes" share, as in production: one Postgres database (migrated and
 * seeded), the memcached nodes, the invalidation exchange and the catalog's durable queue.
 */
export interface CatalogWorld {
  database: TestDatabase;
  memcached: MemcachedCluster;
  exchange: string;
  catalogQueue: string;
  /** Direct client for setup and for comparing the cache with the truth. */
  adminPrisma: PrismaClient;
  adminRepository: CatalogRepository;
  /** Removes queues/exchanges declared by additional consumers too. */
  trackQueue(name: string): void;
  close(): Promise<void>;
}

export async function startCatalogWorld(opts: {
  products: number;
  memcachedNodes?: number;
}): Promise<CatalogWorld> {
  return withTestInfrastructure(async (infra) => {
    const database = await infra.database('resilience', (databaseUrl) =>
      deployMigrations({ schemaPath: CATALOG_SCHEMA_PATH, databaseUrl }),
    );
    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    infra.cleanup.add(() => adminPrisma.$disconnect());
    await seedCatalog(adminPrisma, { products: opts.products });

    const memcached = await infra.memcached(opts.memcachedNodes ?? 3);

    const { exchange, queue, queues } = infra.rabbit({
      exchange: 'resilience-x',
      queue: 'resilience-catalog-q',
    });
    return {
      database,
      memcached,
      exchange,
      catalogQueue: queue,
      adminPrisma,
      adminRepository: new CatalogRepository(adminPrisma),
      trackQueue: (name) => queues.push(name),
      close: () => infra.close(),
    };
  });
}

export interface CatalogInstanceOptions {
  /** Random extra latency (ms) before and after each product read of the loader: widens every race window. */
  loaderDelayMs?: () => number;
  /**
   * Called after a product update committed, before the service fixes its cache: a test holds
   * the write there to replay a slow writer deterministically.
   */
  afterProductCommit?: (id: number) => Promise<void>;
  /** Route this instance's Postgres connections through a TCP proxy the test can cut. */
  databaseProxy?: boolean;
  /** Broker URL of this instance's bus (a proxy in front of RabbitMQ). Default: the broker itself. */
  rabbitmqUrl?: string;
  /** The cache's clock (entry times), to move past soft expiry without waiting. */
  clock?: () => number;
  /** Outbox publish retry backoff; small values keep fault tests short. */
  relay?: { retryBaseSeconds?: number; retryMaxSeconds?: number; pollIntervalMs?: number };
}

/** One catalog instance wired as apps/catalog/src/main.ts wires it, with its own clients. */
export interface CatalogInstance {
  name: string;
  app: Express;
  url: string;
  service: CatalogService;
  cache: Cache;
  cluster: CacheCluster;
  catalogCache: CatalogCache;
  bus: InvalidationBus;
  relay: OutboxRelay;
  metrics: ServiceMetrics;
  prisma: PrismaClient;
  dbProxy: TcpProxy | null;
  /** Product reads that reached Postgres through this instance's loader. */
  databaseLoads(): number;
  /** memshop_cache_loader_calls_total{namespace="product"} of this instance's registry. */
  loaderCalls(): Promise<number>;
  /** Event ids this instance's consumer handled successfully (after the catalog's own handler). */
  consumedEventIds: Set<string>;
  close(): Promise<void>;
}

/**
 * A repository whose product reads can be slowed at random. The delay after the query is the
 * dangerous one: the loader holds the old row while writers commit and purge.
 */
class InstrumentedCatalogRepository extends CatalogRepository {
  loads = 0;
  constructor(
    prisma: PrismaClient,
    private readonly delayMs: () => number,
    private readonly afterProductCommit: (id: number) => Promise<void>,
  ) {
    super(prisma);
  }

  override async updateProduct(id: number, changes: ProductChanges): Promise<ProductWrite> {
    const write = await super.updateProduct(id, changes);
    await this.afterProductCommit(id);
    return write;
  }

  override async findProduct(id: number): Promise<Product | null> {
    this.loads += 1;
    await pause(this.delayMs());
    const product = await super.findProduct(id);
    await pause(this.delayMs());
    return product;
  }

  override async findProducts(ids: number[]): Promise<Map<number, Product>> {
    this.loads += 1;
    await pause(this.delayMs());
    const products = await super.findProducts(ids);
    await pause(this.delayMs());
    return products;
  }
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export async function startCatalogInstance(
  world: CatalogWorld,
  name: string,
  opts: CatalogInstanceOptions = {},
): Promise<CatalogInstance> {
  return withTestInfrastructure(async (infra) => {
    let databaseUrl = world.database.url;
    let dbProxy: TcpProxy | null = null;
    if (opts.databaseProxy) ({ proxy: dbProxy, url: databaseUrl } = await infra.proxy(databaseUrl, 5432));
    const logger = createLogger({ service: `catalog-${name}`, level: logLevel() });
    const prisma = createPrismaClient(PrismaClient, { databaseUrl, logger, connectTimeoutMs: 1000 });
    infra.cleanup.add(() => prisma.$disconnect());

    const metrics = createServiceMetrics('catalog', { defaultMetrics: false });
    const cacheMetrics = createPromCacheMetrics(metrics.registry);
    const cluster = new CacheCluster({ servers: world.memcached.servers, logger, metrics: cacheMetrics });
    infra.cleanup.add(() => cluster.close());
    const cache = new Cache({ cluster, logger, metrics: cacheMetrics, clock: opts.clock });
    infra.cleanup.add(() => cache.close());
    const bus = new InvalidationBus({
      url: opts.rabbitmqUrl ?? rabbitUrl(),
      service: 'catalog',
      exchange: world.exchange,
      queue: world.catalogQueue,
      bindings: CATALOG_EVENT_BINDINGS,
      reconnectMaxDelayMs: 1000,
      logger,
      metrics: cacheMetrics,
    });
    infra.cleanup.add(() => bus.close());
    const relay = new OutboxRelay({
      db: prismaSqlExecutor(prisma),
      publisher: bus,
      logger,
      metrics: cacheMetrics,
      pollIntervalMs: opts.relay?.pollIntervalMs ?? 200,
      retryBaseSeconds: opts.relay?.retryBaseSeconds,
      retryMaxSeconds: opts.relay?.retryMaxSeconds,
    });
    infra.cleanup.add(() => relay.stop());

    const repository = new InstrumentedCatalogRepository(
      prisma,
      opts.loaderDelayMs ?? (() => 0),
      opts.afterProductCommit ?? (async () => undefined),
    );
    const catalogCache = new CatalogCache({ cache, schemaVersion: 1 });
    const service = new CatalogService({
      repository,
      cache: catalogCache,
      afterCommit: (events) => relay.kick(events),
      logger,
    });
    const consumedEventIds = new Set<string>();
    // The event handler's refresh is not slowed: a healing write that lands quickly must not mask
    // a slow loader's stale set landing after it.
    bus.subscribe(
      createCatalogEventHandler({ repository: new CatalogRepository(prisma), cache: catalogCache, logger }),
    );
    // Runs after the catalog's handler succeeded (handlers run in order): "this event is done".
    bus.subscribe(async (event) => {
      consumedEventIds.add(event.id);
    });
    await bus.start();
    if (!(await bus.waitUntilConnected(10_000))) throw new Error(`catalog ${name}: RabbitMQ did not connect`);
    relay.start();

    const app = createApp({
      catalog: service,
      logger,
      metrics,
      healthChecks: {
        database: databaseCheck(prisma),
        memcached: memcachedCheck(cluster),
        rabbitmq: rabbitmqCheck(() => bus.connected),
      },
    });
    const server = await listen(app);
    infra.cleanup.add(() => closeServer(server));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no address');

    return {
      name,
      app,
      url: `http://127.0.0.1:${address.port}`,
      service,
      cache,
      cluster,
      catalogCache,
      bus,
      relay,
      metrics,
      prisma,
      dbProxy,
      databaseLoads: () => repository.loads,
      loaderCalls: () =>
        counterValue(metrics.registry, 'memshop_cache_loader_calls_total', { namespace: 'product' }),
      consumedEventIds,
      close: () => infra.close(),
    };
  });
}

function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
