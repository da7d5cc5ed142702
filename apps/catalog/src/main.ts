import {
  createCacheRuntime,
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  loadConfig,
  redactConfig,
  setupTracing,
  startService,
} from '@memshop/service-kit';
import { createApp } from './app';
import { catalogConfigSchema } from './config';
import { catalogAuditSources } from './data/catalog-audit';
import { CatalogCache } from './data/catalog-cache';
import { CatalogRepository } from './data/catalog-repository';
import { ProductViewFlusher } from './data/product-view-flusher';
import { ReservationSweeper } from './data/reservation-sweeper';
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
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
  const runtime = createCacheRuntime({
    service: 'catalog',
    config,
    logger,
    registry: metrics.registry,
    prisma,
    bindings: CATALOG_EVENT_BINDINGS,
  });
  const { cluster, cache, bus, relay } = runtime;

  const repository = new CatalogRepository(prisma);
  const catalogCache = new CatalogCache({ cache, schemaVersion: config.CACHE_SCHEMA_VERSION });
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
    reservationTtlSeconds: config.STOCK_RESERVATION_TTL_SECONDS,
    logger,
  });
  bus.subscribe(createCatalogEventHandler({ repository, cache: catalogCache, logger }));
  const auditor = runtime.createAuditor(catalogAuditSources(prisma, catalogCache));

  const app = createApp({
    catalog,
    logger,
    metrics,
    healthChecks: runtime.healthChecks,
    audit: auditor,
  });

  await bus.start();
  relay.start();
  viewFlusher.start();
  const sweeper = new ReservationSweeper({
    releaseExpired: () => catalog.releaseExpiredReservations(),
    intervalMs: config.STOCK_RESERVATION_SWEEP_INTERVAL_MS,
    logger,
  });
  sweeper.start();
  if (runtime.auditEnabled) auditor.start();
  await startService({
    app,
    port: config.PORT,
    logger,
    closers: [
      { name: 'reservation-sweeper', close: () => sweeper.close() },
      { name: 'view-flusher', close: () => viewFlusher.close() },
      ...runtime.closers,
      { name: 'tracing', close: () => tracing.shutdown() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error('catalog failed to start:', err);
  process.exit(1);
});
