import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import {
  type Cache,
  type CacheCluster,
  type InvalidationBus,
  type InvalidationEvent,
  type OutboxRelay,
} from '@memshop/cache';
import {
  CACHE_CHANNELS,
  componentTestOverrides,
  createPrismaClient,
  parseConfig,
  type OutboxRelayThread,
  type ServiceMetrics,
} from '@memshop/service-kit';
import { ApiContract, contractCheckedApp } from '@memshop/testing/contract';
import {
  bearer,
  createAuthKeys,
  loadedMachineMemcachedEnv,
  rabbitUrl,
  relaxedRateLimitEnv,
  waitFor,
  withRecordedReads,
  withTestInfrastructure,
  type AuthKeys,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import type { Express } from 'express';
import { catalogApiDocument } from '../api/openapi';
import { createCatalogService } from '../catalog';
import { catalogConfigSchema } from '../config';
import type { CatalogCache } from '../data/catalog-cache';
import type { CatalogRepository } from '../data/catalog-repository';
import type { ProductViewFlusher } from '../data/product-view-flusher';
import { PrismaClient } from '../prisma/generated/client';
import { seedCatalog } from '../prisma/seed';

export const SCHEMA_PATH = path.join(__dirname, '..', 'prisma', 'schema.prisma');

export interface CatalogFixture {
  /** The app behind a recorder that checks every response against catalog's OpenAPI document. */
  app: Express;
  /** The admin port's app: /metrics and the detailed /health/ready. */
  adminApp: Express;
  /** What the responses so far were checked against; close() fails on any violation. */
  contract: ApiContract;
  cache: Cache;
  cluster: CacheCluster;
  catalogCache: CatalogCache;
  repository: CatalogRepository;
  relay: OutboxRelay;
  /** Publishes product events at their commit (the production wiring). */
  relayThread: OutboxRelayThread;
  bus: InvalidationBus;
  flusher: ProductViewFlusher;
  metrics: ServiceMetrics;
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
  /** The keys the service trusts, to mint other tokens. */
  auth: AuthKeys;
  /** Authorization headers (`.set(f.as.admin)`): an admin for writes, order-service for /stock (valid 5 min). */
  as: { admin: { authorization: string }; orderService: { authorization: string } };
  close(): Promise<void>;
}

/**
 * The catalog built by its composition root, as main.ts builds it, against real servers: a fresh Postgres database
 * (migrated and seeded with `products` products), three memcached nodes, and RabbitMQ names
 * unique to this run. close() removes everything, also after a failed test.
 */
export async function startCatalogFixture(
  opts: { products?: number; env?: Record<string, string> } = {},
): Promise<CatalogFixture> {
  return withTestInfrastructure(async (infra) => {
    const { consumed, waitForConsumed } = infra.consumed<InvalidationEvent>(CACHE_CHANNELS.consume);
    const database = await infra.database('catalog', (databaseUrl) =>
      deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl }),
    );

    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    infra.cleanup.add(() => adminPrisma.$disconnect());
    await seedCatalog(adminPrisma, { products: opts.products ?? 30 });

    const { proxy: dbProxy, url: proxiedUrl } = await infra.proxy(database.url, 5432);
    const memcached = await infra.memcached(3);
    const { exchange, queue } = infra.rabbit({ exchange: 'catalog-x', queue: 'catalog-q' });
    const auth = await createAuthKeys();
    infra.cleanup.add(() => auth.remove());
    const config = parseConfig(catalogConfigSchema, {
      ...auth.envFor('catalog'),
      DATABASE_URL: proxiedUrl,
      MEMCACHED_SERVERS: memcached.servers.join(','),
      RABBITMQ_URL: rabbitUrl(),
      INVALIDATION_EXCHANGE: exchange,
      INVALIDATION_QUEUE: queue,
      // Tests flush views and sweep reservations themselves, and run single audit passes
      // through the route with no grace wait.
      PRODUCT_VIEWS_FLUSH_INTERVAL_MS: '3600000',
      STOCK_RESERVATION_SWEEP_INTERVAL_MS: '3600000',
      CACHE_AUDIT_SAMPLE_SIZE: '0',
      CACHE_AUDIT_GRACE_MS: '0',
      ...loadedMachineMemcachedEnv,
      ...relaxedRateLimitEnv,
      ...opts.env,
    });

    const { overrides, advanceClock } = componentTestOverrides('catalog');
    const eventReloads: number[] = [];
    const service = createCatalogService(config, {
      ...overrides,
      eventRepository: (repository) => withRecordedReads(repository, 'findProduct', eventReloads),
    });
    await infra.start(service, 'catalog');
    // Product events are published by the relay thread once it runs (from sources, through tsx:
    // seconds on a cold, busy machine); tests expect the production path from the start.
    await waitFor(() => service.relayThread!.publishing, {
      timeoutMs: 30_000,
      message: 'the outbox relay thread never started publishing',
    });

    const contract = new ApiContract(catalogApiDocument(), { ignore: [/^\/docs\//] });
    const as = {
      admin: bearer(await auth.adminToken(1, { expiresInSeconds: 3600 })),
      orderService: bearer(await auth.serviceToken('catalog')),
    };
    return {
      app: contractCheckedApp(service.app, contract),
      adminApp: service.adminApp,
      contract,
      cache: service.cache,
      cluster: service.cluster,
      catalogCache: service.catalogCache,
      repository: service.repository,
      relay: service.relay,
      relayThread: service.relayThread!,
      bus: service.bus,
      flusher: service.flusher,
      metrics: service.metrics,
      prisma: service.prisma,
      adminPrisma,
      dbProxy,
      memcached,
      database,
      consumed,
      waitForConsumed,
      eventReloads,
      advanceClock,
      auth,
      as,
      close: async () => {
        await infra.close();
        contract.assertNoViolations();
      },
    };
  });
}
