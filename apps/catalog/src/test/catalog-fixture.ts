import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import {
  Cache,
  CacheAuditor,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
  type InvalidationEvent,
} from '@memshop/cache';
import { CACHE_CHANNEL_NAMES } from '@memshop/cache/advanced';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  memcachedCheck,
  rabbitmqCheck,
} from '@memshop/service-kit';
import { ApiContract, contractCheckedApp } from '@memshop/testing/contract';
import {
  rabbitUrl,
  withTestInfrastructure,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import type { Express } from 'express';
import { catalogApiDocument } from '../api/openapi';
import { createApp } from '../app';
import { catalogAuditSources } from '../data/catalog-audit';
import { CatalogCache } from '../data/catalog-cache';
import { CatalogRepository } from '../data/catalog-repository';
import { ProductViewFlusher } from '../data/product-view-flusher';
import { CatalogService } from '../domain/catalog-service';
import { CATALOG_EVENT_BINDINGS, createCatalogEventHandler } from '../events/catalog-events';
import { PrismaClient } from '../prisma/generated/client';
import { seedCatalog } from '../prisma/seed';

export const SCHEMA_PATH = path.join(__dirname, '..', 'prisma', 'schema.prisma');

export interface CatalogFixture {
  /** The app behind a recorder that checks every response against catalog's OpenAPI document. */
  app: Express;
  /** What the responses so far were checked against; close() fails on any violation. */
  contract: ApiContract;
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
  return withTestInfrastructure(async (infra) => {
    const { consumed, waitForConsumed } = infra.consumed<InvalidationEvent>(CACHE_CHANNEL_NAMES.consume);
    const database = await infra.database('catalog', (databaseUrl) =>
      deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl }),
    );

    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    infra.cleanup.add(() => adminPrisma.$disconnect());
    await seedCatalog(adminPrisma, { products: opts.products ?? 30 });

    const { proxy: dbProxy, url: proxiedUrl } = await infra.proxy(database.url, 5432);

    const logger = createLogger({ service: 'catalog', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
    const prisma = createPrismaClient(PrismaClient, {
      databaseUrl: proxiedUrl,
      logger,
      connectTimeoutMs: 1000,
    });
    infra.cleanup.add(() => prisma.$disconnect());

    const memcached = await infra.memcached(3);

    let clockOffsetMs = 0;
    const clock = () => Date.now() + clockOffsetMs;
    const metrics = createServiceMetrics('catalog', { defaultMetrics: false });
    const cacheMetrics = createPromCacheMetrics(metrics.registry);
    const cluster = new CacheCluster({ servers: memcached.servers, logger, metrics: cacheMetrics });
    infra.cleanup.add(() => cluster.close());
    const cache = new Cache({ cluster, logger, metrics: cacheMetrics, clock });
    infra.cleanup.add(() => cache.close());

    const { exchange, queue } = infra.rabbit({ exchange: 'catalog-x', queue: 'catalog-q' });
    const bus = new InvalidationBus({
      url: rabbitUrl(),
      service: 'catalog',
      exchange,
      queue,
      bindings: CATALOG_EVENT_BINDINGS,
      logger,
      metrics: cacheMetrics,
    });
    infra.cleanup.add(() => bus.close());
    const relay = new OutboxRelay({
      db: prismaSqlExecutor(prisma),
      publisher: bus,
      logger,
      metrics: cacheMetrics,
      pollIntervalMs: 200,
    });
    infra.cleanup.add(() => relay.stop());

    const repository = new CatalogRepository(prisma);
    const catalogCache = new CatalogCache({ cache, schemaVersion: 1 });
    const flusher = new ProductViewFlusher({
      cluster,
      store: (deltas) => repository.addProductViews(deltas),
      schemaVersion: 1,
      intervalMs: 60_000,
      logger,
    });
    infra.cleanup.add(() => flusher.idle());
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
      // Never started here: the route runs single passes, with no grace wait.
      audit: new CacheAuditor({
        cache,
        sources: catalogAuditSources(prisma, catalogCache),
        graceMs: 0,
        logger,
      }),
    });
    const contract = new ApiContract(catalogApiDocument(), { ignore: [/^\/docs\//] });
    return {
      app: contractCheckedApp(app, contract),
      contract,
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
      waitForConsumed,
      eventReloads,
      advanceClock: (ms) => {
        clockOffsetMs += ms;
      },
      close: async () => {
        await infra.close();
        contract.assertNoViolations();
      },
    };
  });
}
