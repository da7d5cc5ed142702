import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import type { Cache, CacheCluster, InvalidationBus, NearCache, OutboxRelay } from '@memshop/cache';
import {
  componentTestOverrides,
  createLogger,
  createPrismaClient,
  parseConfig,
  type ServiceMetrics,
} from '@memshop/service-kit';
import {
  bearer,
  createAuthKeys,
  loadedMachineMemcachedEnv,
  relaxedRateLimitEnv,
  rabbitUrl,
  withTestInfrastructure,
  type AuthKeys,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import type { Express } from 'express';
import { createCatalogService } from '../../../../apps/catalog/src/catalog';
import { catalogConfigSchema } from '../../../../apps/catalog/src/config';
import type { CatalogCache } from '../../../../apps/catalog/src/data/catalog-cache';
import {
  CatalogRepository,
  type CatalogRepositoryOptions,
  type ProductWrite,
} from '../../../../apps/catalog/src/data/catalog-repository';
import type { CatalogService } from '../../../../apps/catalog/src/domain/catalog-service';
import type { Product, ProductChanges } from '../../../../apps/catalog/src/domain/product';
import { PrismaClient } from '../../../../apps/catalog/src/prisma/generated/client';
import { seedCatalog } from '../../../../apps/catalog/src/prisma/seed';
import { counterValue } from './prom-counters';
import { startConsuming } from './start-consuming';

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

/**
 * What several catalog "processes" share, as in production: one Postgres database (migrated and
 * seeded), the memcached nodes, the invalidation exchange, the catalog's durable queue and the
 * token keys every instance trusts.
 */
export interface CatalogWorld {
  database: TestDatabase;
  memcached: MemcachedCluster;
  exchange: string;
  catalogQueue: string;
  /** Direct client for setup and for comparing the cache with the truth. */
  adminPrisma: PrismaClient;
  adminRepository: CatalogRepository;
  /** The keys every instance of this world trusts, to mint other tokens. */
  auth: AuthKeys;
  /** Authorization headers (`requestJson(url, path, { as: world.as.admin })`): an admin for writes, order-service for /stock. */
  as: { admin: { authorization: string }; orderService: { authorization: string } };
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
    const auth = await createAuthKeys();
    infra.cleanup.add(() => auth.remove());
    // Valid for an hour: the longest fault scenarios outlive a default 5-minute service token.
    const as = {
      admin: bearer(await auth.adminToken(1, { expiresInSeconds: 3600 })),
      orderService: bearer(await auth.serviceToken('catalog', { expiresInSeconds: 3600 })),
    };
    return {
      database,
      memcached,
      exchange,
      catalogQueue: queue,
      adminPrisma,
      adminRepository: new CatalogRepository(adminPrisma),
      auth,
      as,
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
  /** Hot products held in process (CACHE_NEAR_ENABLED), every product read counted hot. */
  nearCache?: boolean;
  /**
   * The writer also deletes order-service's product copies (INVALIDATION_PRODUCT_COPIES, on in
   * production). Off by default: these suites are about what the events do, which that purge
   * would hide.
   */
  copyPurge?: boolean;
  /**
   * memcached's op timeout as in production (150 ms), for suites whose subject is a failing
   * node; otherwise the healthy-node value of loadedMachineMemcachedEnv.
   */
  productionMemcachedTimeout?: boolean;
  /** Outbox publish retry backoff; small values keep fault tests short. */
  relay?: { retryBaseSeconds?: number; retryMaxSeconds?: number; pollIntervalMs?: number };
}

/** One catalog instance built by its composition root, as apps/catalog/src/main.ts builds it. */
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
  /**
   * What the instance logged at error level (a 500's cause among them), kept whatever the
   * suite's log level, so a test that sees a 500 can say why.
   */
  errorLog: string[];
  /** Product reads that reached Postgres through this instance's loader. */
  databaseLoads(): number;
  /** memshop_cache_loader_calls_total{namespace="product"} of this instance's registry. */
  loaderCalls(): Promise<number>;
  /** Event ids this instance's consumer handled successfully (after the catalog's own handler). */
  consumedEventIds: Set<string>;
  /** With `nearCache`: the near cache, and the event ids its own feed applied. */
  nearCache: NearCache | null;
  nearCacheEventIds: Set<string> | null;
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
    options: CatalogRepositoryOptions,
    private readonly delayMs: () => number,
    private readonly afterProductCommit: (id: number) => Promise<void>,
  ) {
    super(prisma, options);
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
    const config = parseConfig(catalogConfigSchema, {
      ...world.auth.envFor('catalog'),
      DATABASE_URL: databaseUrl,
      MEMCACHED_SERVERS: world.memcached.servers.join(','),
      RABBITMQ_URL: opts.rabbitmqUrl ?? rabbitUrl(),
      INVALIDATION_EXCHANGE: world.exchange,
      INVALIDATION_QUEUE: world.catalogQueue,
      // The tests compare the cache with the truth themselves; a background audit would only add load.
      CACHE_AUDIT_SAMPLE_SIZE: '0',
      ...(opts.nearCache ? { CACHE_NEAR_ENABLED: 'true', CACHE_NEAR_HOT_READS_PER_SECOND: '0' } : {}),
      ...(opts.copyPurge ? {} : { INVALIDATION_PRODUCT_COPIES: '' }),
      ...(opts.productionMemcachedTimeout ? {} : loadedMachineMemcachedEnv),
      ...relaxedRateLimitEnv,
    });
    let repository: InstrumentedCatalogRepository | undefined;
    const { overrides } = componentTestOverrides('catalog', {
      instance: `catalog-${name}`,
      cache: {
        clock: opts.clock,
        relayPollIntervalMs: opts.relay?.pollIntervalMs,
        relayRetryBaseSeconds: opts.relay?.retryBaseSeconds,
        relayRetryMaxSeconds: opts.relay?.retryMaxSeconds,
        busReconnectMaxDelayMs: 1000,
      },
    });
    const errorLog: string[] = [];
    const logLevel = process.env['TEST_LOG_LEVEL'];
    const service = createCatalogService(config, {
      ...overrides,
      // Half the default: the resilience suite runs beside other suites in CI, all on one
      // Postgres and its 100 connections, and each instance also has its relay thread's three.
      databasePoolMax: 5,
      // Errors are kept whatever the level; lines are printed only when TEST_LOG_LEVEL asks.
      logger: createLogger({
        service: `catalog-${name}`,
        level: logLevel && logLevel !== 'silent' ? logLevel : 'error',
        destination: {
          write(line: string) {
            if ((JSON.parse(line) as { level: number }).level >= 50) errorLog.push(line);
            if (logLevel && logLevel !== 'silent') process.stdout.write(line);
          },
        },
      }),
      repository: (prisma, options) =>
        (repository = new InstrumentedCatalogRepository(
          prisma,
          options,
          opts.loaderDelayMs ?? (() => 0),
          opts.afterProductCommit ?? (async () => undefined),
        )),
      // The event handler's refresh is not slowed: a healing write that lands quickly must not
      // mask a slow loader's stale set landing after it.
      eventRepository: (_repository, prisma) => new CatalogRepository(prisma),
    });
    const consumedEventIds = await startConsuming(infra, service, `catalog ${name}`);
    let nearCacheEventIds: Set<string> | null = null;
    if (service.nearCacheFeed) {
      const ids = (nearCacheEventIds = new Set<string>());
      service.nearCacheFeed.onEventHandled((event) => ids.add(event.id));
      if (!(await service.nearCacheFeed.waitUntilConnected(20_000))) {
        throw new Error(`catalog ${name}: near-cache feed did not connect`);
      }
    }
    const { url } = await service.listen({
      port: 0,
      host: '127.0.0.1',
      handleSignals: false,
      // The tests end with requests still hanging on a cut dependency: drop them at once.
      shutdownTimeoutMs: 0,
    });

    return {
      name,
      app: service.app,
      url,
      service: service.catalog,
      cache: service.cache,
      cluster: service.cluster,
      catalogCache: service.catalogCache,
      bus: service.bus,
      relay: service.relay,
      metrics: service.metrics,
      prisma: service.prisma,
      dbProxy,
      errorLog,
      databaseLoads: () => repository?.loads ?? 0,
      loaderCalls: () =>
        counterValue(service.metrics.registry, 'memshop_cache_loader_calls_total', { namespace: 'product' }),
      consumedEventIds,
      nearCache: service.nearCache,
      nearCacheEventIds,
      close: () => infra.close(),
    };
  });
}
