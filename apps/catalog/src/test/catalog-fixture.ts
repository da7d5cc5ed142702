import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import {
  Cache,
  CACHE_CHANNEL_NAMES,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
  type InvalidationEvent,
} from '@memshop/cache';
import { deployMigrations } from '@memshop/migrate';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  memcachedCheck,
  rabbitmqCheck,
} from '@memshop/service-kit';
import {
  createTestDatabase,
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  startTcpProxy,
  uniqueName,
  waitFor,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import type { Express } from 'express';
import { createApp } from '../app';
import { CatalogCache } from '../data/catalog-cache';
import { CatalogRepository } from '../data/catalog-repository';
import { ProductViewFlusher } from '../data/product-view-flusher';
import { CatalogService } from '../domain/catalog-service';
import { CATALOG_EVENT_BINDINGS, createCatalogEventHandler } from '../events/catalog-events';
import { PrismaClient } from '../prisma/generated/client';
import { seedCatalog } from '../prisma/seed';

export const SCHEMA_PATH = path.join(__dirname, '..', 'prisma', 'schema.prisma');

export interface CatalogFixture {
  app: Express;
  cache: Cache;
  cluster: CacheCluster;
  catalogCache: CatalogCache;
  repository: CatalogRepository;
  relay: OutboxRelay;
  bus: InvalidationBus;
  flusher: ProductViewFlusher;
  metrics: ReturnType<typeof createServiceMetrics>;
  /** The service's Prisma client, connected through `dbProxy` (cut it to take the database away). */
  prisma: PrismaClient;
  /** A direct client for assertions and setup, unaffected by the proxy. */
  adminPrisma: PrismaClient;
  dbProxy: TcpProxy;
  memcached: MemcachedCluster;
  database: TestDatabase;
  /** Events the catalog's own consumer has handled since the fixture started. */
  consumed: InvalidationEvent[];
  /** Resolves once the consumer has handled an event matching `match`. */
  waitForConsumed(match: (event: InvalidationEvent) => boolean, what: string): Promise<InvalidationEvent>;
  /** Products the event consumer has read from Postgres (refreshes), by id. */
  eventReloads: number[];
  /** Moves the cache's clock forward (soft expiry) without waiting. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

/**
 * The catalog wired as main.ts wires it, against real servers: a fresh Postgres database
 * (migrated and seeded with `products` products), three memcached nodes, and RabbitMQ names
 * unique to this run. close() removes everything, also after a failed test.
 */
export async function startCatalogFixture(opts: { products?: number } = {}): Promise<CatalogFixture> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const consumed: InvalidationEvent[] = [];
  const onConsume = (message: unknown) => {
    const { event, ok } = message as { event: InvalidationEvent; ok: boolean };
    if (ok) consumed.push(event);
  };
  diagnosticsChannel.subscribe(CACHE_CHANNEL_NAMES.consume, onConsume);
  cleanups.push(async () => diagnosticsChannel.unsubscribe(CACHE_CHANNEL_NAMES.consume, onConsume));
  try {
    const database = await createTestDatabase('catalog');
    cleanups.push(() => database.drop());
    await deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl: database.url });

    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    cleanups.push(() => adminPrisma.$disconnect());
    await seedCatalog(adminPrisma, { products: opts.products ?? 30 });

    const url = new URL(database.url);
    const dbProxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => dbProxy.close());
    url.port = String(dbProxy.port);
    url.hostname = dbProxy.host;

    const logger = createLogger({ service: 'catalog', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
    const prisma = createPrismaClient(PrismaClient, {
      databaseUrl: url.toString(),
      logger,
      connectTimeoutMs: 1000,
    });
    cleanups.push(() => prisma.$disconnect());

    const memcached = await startMemcachedCluster(3);
    cleanups.push(() => memcached.stop());

    let clockOffsetMs = 0;
    const clock = () => Date.now() + clockOffsetMs;
    const metrics = createServiceMetrics('catalog', { defaultMetrics: false });
    const cacheMetrics = createPromCacheMetrics(metrics.registry);
    const cluster = new CacheCluster({ servers: memcached.servers, logger, metrics: cacheMetrics });
    cleanups.push(() => cluster.close());
    const cache = new Cache({ cluster, logger, metrics: cacheMetrics, clock });
    cleanups.push(() => cache.close());

    const exchange = uniqueName('catalog-x');
    const queue = uniqueName('catalog-q');
    cleanups.push(() => deleteRabbitObjects({ queues: [queue], exchanges: [exchange] }));
    const bus = new InvalidationBus({
      url: rabbitUrl(),
      service: 'catalog',
      exchange,
      queue,
      bindings: CATALOG_EVENT_BINDINGS,
      logger,
      metrics: cacheMetrics,
    });
    cleanups.push(() => bus.close());
    const relay = new OutboxRelay({
      db: prismaSqlExecutor(prisma),
      publisher: bus,
      logger,
      metrics: cacheMetrics,
      pollIntervalMs: 200,
    });
    cleanups.push(() => relay.stop());

    const repository = new CatalogRepository(prisma);
    const catalogCache = new CatalogCache({ cache, schemaVersion: 1, store: cluster });
    const flusher = new ProductViewFlusher({
      cluster,
      store: (deltas) => repository.addProductViews(deltas),
      schemaVersion: 1,
      intervalMs: 60_000,
      logger,
    });
    cleanups.push(() => flusher.idle());
    const catalog = new CatalogService({
      repository,
      cache: catalogCache,
      afterCommit: (events) => relay.kick(events),
      recordView: (id) => flusher.recordView(id),
      logger,
    });
    const eventReloads: number[] = [];
    const countingRepository = {
      findProduct: (id: number) => {
        eventReloads.push(id);
        return repository.findProduct(id);
      },
      findProducts: (ids: number[]) => repository.findProducts(ids),
      categoryProductIds: (id: number) => repository.categoryProductIds(id),
    };
    bus.subscribe(createCatalogEventHandler({ repository: countingRepository, cache: catalogCache, logger }));
    await bus.start();
    if (!(await bus.waitUntilConnected(10_000))) throw new Error('RabbitMQ did not connect');
    relay.start();

    const app = createApp({
      catalog,
      logger,
      metrics,
      healthChecks: {
        database: databaseCheck(prisma),
        memcached: memcachedCheck(cluster),
        rabbitmq: rabbitmqCheck(() => bus.connected),
      },
    });
    return {
      app,
      cache,
      cluster,
      catalogCache,
      repository,
      relay,
      bus,
      flusher,
      metrics,
      prisma,
      adminPrisma,
      dbProxy,
      memcached,
      database,
      consumed,
      waitForConsumed: (match, what) =>
        waitFor(() => consumed.find(match), { timeoutMs: 15_000, intervalMs: 10, message: what }),
      eventReloads,
      advanceClock: (ms) => {
        clockOffsetMs += ms;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
