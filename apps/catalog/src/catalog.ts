import { randomBytes } from 'node:crypto';
import { DownstreamCopies } from '@memshop/cache';
import {
  composeService,
  OUTBOX_TABLE,
  type ComposedService,
  type ServiceOverrides,
} from '@memshop/service-kit';
import { benchCacheLeases } from './api/bench-routes';
import { createApp } from './app';
import type { CatalogConfig } from './config';
import { catalogAuditSources } from './data/catalog-audit';
import { CatalogCache, productKeySpace } from './data/catalog-cache';
import { CatalogRepository, type CatalogRepositoryOptions } from './data/catalog-repository';
import { ProductViewFlusher } from './data/product-view-flusher';
import { ReservationSweeper } from './data/reservation-sweeper';
import { CatalogService } from './domain/catalog-service';
import {
  CATALOG_EVENT_BINDINGS,
  catalogNearCacheKeys,
  createCatalogEventHandler,
  type CatalogEventDeps,
} from './events/catalog-events';
import { PrismaClient } from './prisma/generated/client';

export interface CatalogOverrides extends ServiceOverrides {
  /**
   * The repository the service reads and writes through (tests slow it or hold its commits);
   * `options` are the production ones (this instance's announce channel), to pass on.
   */
  repository?: (prisma: PrismaClient, options: CatalogRepositoryOptions) => CatalogRepository;
  /** What the event consumer reloads products with; default the service's repository. */
  eventRepository?: (repository: CatalogRepository, prisma: PrismaClient) => CatalogEventDeps['repository'];
}

export type CatalogHandle = ComposedService<
  PrismaClient,
  {
    catalog: CatalogService;
    repository: CatalogRepository;
    catalogCache: CatalogCache;
    flusher: ProductViewFlusher;
  }
>;

/**
 * catalog-service from its config: Prisma, the memcached ring, cache, bus, relay and auditor
 * (composeService), the view flusher, the reservation sweeper and the app. main.ts and every
 * test harness build it here, so tests run the production wiring. No I/O until start().
 */
export function createCatalogService(config: CatalogConfig, overrides: CatalogOverrides = {}): CatalogHandle {
  const products = productKeySpace(config.CACHE_SCHEMA_VERSION);
  // This instance's own channel: only its relay thread hears its writes, so each announced event
  // is published once, however many instances run.
  const announceChannel = config.OUTBOX_PUBLISH_AT_COMMIT
    ? `${OUTBOX_TABLE}_${randomBytes(6).toString('hex')}`
    : undefined;
  const options = {
    service: 'catalog',
    config,
    PrismaClient,
    bindings: CATALOG_EVENT_BINDINGS,
    announceChannel,
    // The stock endpoints are order-service's only; its tokens name catalog as their audience.
    serviceTokens: { jwksFile: config.SERVICE_JWKS_FILE, audience: 'catalog' },
    // Hot products in process; category pages stay in memcached (a namespace bump per change).
    nearCache: config.CACHE_NEAR_ENABLED
      ? {
          keyPrefixes: [products.prefix],
          keysOf: catalogNearCacheKeys((id) => products.key(String(id))),
          maxBytes: config.CACHE_NEAR_MAX_BYTES,
          ttlMs: config.CACHE_NEAR_TTL_MS,
          minReadsPerSecond: config.CACHE_NEAR_HOT_READS_PER_SECOND,
        }
      : undefined,
    overrides: benchCacheLeases()
      ? overrides
      : { ...overrides, cache: { ...overrides.cache, leases: false } },
  };
  return composeService(
    options,
    ({ logger, metrics, prisma, runtime, authenticate, rateLimits, requestDeadlineMs }) => {
      const { cluster, cache, bus, relay, relayThread } = runtime;
      const repositoryOptions = { announceChannel };
      const repository =
        overrides.repository?.(prisma, repositoryOptions) ?? new CatalogRepository(prisma, repositoryOptions);
      const catalogCache = new CatalogCache({ cache, schemaVersion: config.CACHE_SCHEMA_VERSION });
      const flusher = new ProductViewFlusher({
        cluster,
        store: (deltas) => repository.addProductViews(deltas),
        schemaVersion: config.CACHE_SCHEMA_VERSION,
        intervalMs: config.PRODUCT_VIEWS_FLUSH_INTERVAL_MS,
        logger,
      });
      const productCopies = new DownstreamCopies(cache, config.INVALIDATION_PRODUCT_COPIES);
      const catalog = new CatalogService({
        repository,
        cache: catalogCache,
        purgeProductCopies: (ids) => productCopies.purge(ids),
        afterCommit: (events, { announced } = { announced: false }) => {
          if (!(announced && relayThread?.publishing)) relay.kick(events);
        },
        recordView: (id) => flusher.recordView(id),
        reservationTtlSeconds: config.STOCK_RESERVATION_TTL_SECONDS,
        logger,
      });
      const eventRepository = overrides.eventRepository?.(repository, prisma) ?? repository;
      bus.subscribe(createCatalogEventHandler({ repository: eventRepository, cache: catalogCache, logger }));
      const auditor = runtime.createAuditor(catalogAuditSources(prisma, catalogCache));
      const sweeper = new ReservationSweeper({
        releaseExpired: () => catalog.releaseExpiredReservations(),
        intervalMs: config.STOCK_RESERVATION_SWEEP_INTERVAL_MS,
        logger,
      });
      return {
        app: createApp({
          catalog,
          logger,
          metrics,
          healthChecks: runtime.healthChecks,
          audit: auditor,
          authenticate,
          rateLimits,
          requestDeadlineMs,
          cacheCluster: cluster,
        }),
        auditor,
        tasks: [
          { name: 'reservation-sweeper', start: () => sweeper.start(), close: () => sweeper.close() },
          { name: 'view-flusher', start: () => flusher.start(), close: () => flusher.close() },
        ],
        parts: { catalog, repository, catalogCache, flusher },
      };
    },
  );
}
