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
  loadConfig,
  memcachedCheck,
  rabbitmqCheck,
  redactConfig,
  setupTracing,
  startService,
} from '@memshop/service-kit';
import { createApp } from './app';
import { catalogConfigSchema } from './config';
import { CatalogCache } from './data/catalog-cache';
import { CatalogRepository } from './data/catalog-repository';
import { ProductViewFlusher } from './data/product-view-flusher';
import { CatalogService } from './domain/catalog-service';
import { CATALOG_EVENT_BINDINGS, createCatalogEventHandler } from './events/catalog-events';
import { PrismaClient } from './prisma/generated/client';

async function main(): Promise<void> {
  const config = loadConfig(catalogConfigSchema);
  const tracing = setupTracing({
    serviceName: 'catalog',
    serviceInstanceId: config.SERVICE_INSTANCE_ID,
    exporter: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const logger = createLogger({ service: 'catalog', level: config.LOG_LEVEL });
  logger.info({ config: redactConfig(config) }, 'starting');

  const metrics = createServiceMetrics('catalog');
  const cacheMetrics = createPromCacheMetrics(metrics.registry);
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
  const cluster = new CacheCluster({
    servers: config.MEMCACHED_SERVERS,
    gutterServers: config.MEMCACHED_GUTTER_SERVERS.length > 0 ? config.MEMCACHED_GUTTER_SERVERS : undefined,
    username: config.MEMCACHED_USERNAME,
    password: config.MEMCACHED_PASSWORD,
    logger,
    metrics: cacheMetrics,
  });
  const cache = new Cache({ cluster, logger, metrics: cacheMetrics });
  const bus = new InvalidationBus({
    url: config.RABBITMQ_URL,
    service: 'catalog',
    exchange: config.INVALIDATION_EXCHANGE,
    queue: config.INVALIDATION_QUEUE,
    bindings: CATALOG_EVENT_BINDINGS,
    logger,
    metrics: cacheMetrics,
  });
  const relay = new OutboxRelay({
    db: prismaSqlExecutor(prisma),
    publisher: bus,
    logger,
    metrics: cacheMetrics,
  });

  const repository = new CatalogRepository(prisma);
  const catalogCache = new CatalogCache({
    cache,
    schemaVersion: config.CACHE_SCHEMA_VERSION,
    store: cluster,
  });
  const viewFlusher = new ProductViewFlusher({
    cluster,
    store: (deltas) => repository.addProductViews(deltas),
    schemaVersion: config.CACHE_SCHEMA_VERSION,
    intervalMs: config.PRODUCT_VIEWS_FLUSH_INTERVAL_MS,
    logger,
  });
  const catalog = new CatalogService({
    repository,
    cache: catalogCache,
    afterCommit: (events) => relay.kick(events),
    recordView: (id) => viewFlusher.recordView(id),
    logger,
  });
  bus.subscribe(createCatalogEventHandler({ repository, cache: catalogCache, logger }));

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

  await bus.start();
  relay.start();
  viewFlusher.start();
  await startService({
    app,
    port: config.PORT,
    logger,
    closers: [
      { name: 'view-flusher', close: () => viewFlusher.close() },
      { name: 'outbox-relay', close: () => relay.stop() },
      { name: 'invalidation-bus', close: () => bus.close() },
      { name: 'cache', close: () => cache.close() },
      { name: 'memcached', close: () => cluster.close() },
      { name: 'prisma', close: () => prisma.$disconnect() },
      { name: 'tracing', close: () => tracing.shutdown() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error('catalog failed to start:', err);
  process.exit(1);
});
