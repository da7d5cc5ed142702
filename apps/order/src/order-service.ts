import type { Cache, CacheAuditor, CacheCluster, InvalidationBus, OutboxRelay } from '@memshop/cache';
import {
  createCacheRuntime,
  createPrismaClient,
  createServiceMetrics,
  type Closable,
  type HealthCheck,
  type Logger,
  type ServiceMetrics,
} from '@memshop/service-kit';
import type { Express } from 'express';
import pLimit from 'p-limit';
import { createApp } from './app';
import type { OrderConfig } from './config';
import { orderCacheKeys } from './data/cache-keys';
import { CatalogClient } from './data/catalog-client';
import { OrderRepository } from './data/order-repository';
import { OrderSettler } from './data/order-settler';
import { CachedOrderStore } from './data/order-store';
import { orderAuditSources } from './data/order-audit';
import { CachedProductDirectory } from './data/product-directory';
import { ServiceClient } from './data/service-client';
import { UserClient } from './data/user-client';
import { CachedUserDirectory } from './data/user-directory';
import { createUpstreamInvalidationHandler, ORDER_EVENT_BINDINGS } from './events/upstream-invalidation';
import type { StockReservations } from './domain/order';
import { PrismaClient } from './prisma/generated/client';

export interface OrderService {
  app: Express;
  prisma: PrismaClient;
  cluster: CacheCluster;
  cache: Cache;
  bus: InvalidationBus;
  relay: OutboxRelay;
  /** Compares order-service's copies of products and users with their owners' versions. */
  auditor: CacheAuditor;
  metrics: ServiceMetrics;
  /** Finishes the orders requests left pending; started by start(). */
  settler: OrderSettler;
  /** Connects the bus (in the background, never throws) and starts the relay. */
  start(): Promise<void>;
  /** What to close after the HTTP server, in order. */
  closers: Closable[];
}

export interface OrderServiceOptions {
  logger: Logger;
}

/**
 * Builds every client order-service needs from its config: Prisma, the memcached ring, the
 * cache, the bus and relay, the HTTP clients of catalog and user. No I/O until start().
 * main.ts runs it; component tests build it around their own databases and queues.
 */
export function createOrderService(config: OrderConfig, { logger }: OrderServiceOptions): OrderService {
  const metrics = createServiceMetrics('order');
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
  const runtime = createCacheRuntime({
    service: 'order',
    config,
    logger,
    registry: metrics.registry,
    prisma,
    bindings: ORDER_EVENT_BINDINGS,
  });
  const { cluster, cache, bus, relay } = runtime;

  const keys = orderCacheKeys(config.CACHE_SCHEMA_VERSION);
  const catalogHttp = new ServiceClient({
    service: 'catalog',
    baseUrl: config.CATALOG_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const userHttp = new ServiceClient({
    service: 'user',
    baseUrl: config.USER_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
  const catalog = new CatalogClient(catalogHttp);
  const userClient = new UserClient(userHttp);
  const users = new CachedUserDirectory(cache, userClient, keys);
  const products = new CachedProductDirectory(cache, catalog, keys);
  const settleDelayMs = config.ORDER_SETTLE_DELAY_MS ?? 3 * config.UPSTREAM_TIMEOUT_MS;
  const orderRepository = new OrderRepository(prisma, {
    settleDelayMs,
    settleRetryMs: config.ORDER_SETTLE_INTERVAL_MS,
  });
  const orders = new CachedOrderStore(cache, orderRepository, keys, relay);
  const stock: StockReservations = {
    reserve: (lines, reference) => catalog.reserveStock(lines, reference),
    confirm: (reference) => catalog.confirmReservation(reference),
    release: (reference) => catalog.releaseReservation(reference),
  };
  const settler = new OrderSettler({
    orders,
    stock,
    intervalMs: config.ORDER_SETTLE_INTERVAL_MS,
    logger,
  });

  bus.subscribe(createUpstreamInvalidationHandler({ cache, keys, logger }));
  // Copies purged by events must not outlive a gap in the event feed: events missed while
  // disconnected would otherwise leave them stale until their TTL.
  cache.trackInvalidationFeed(bus, ['product', 'user']);
  const auditor = runtime.createAuditor(orderAuditSources({ prisma, keys, catalog, users: userClient }));

  const app = createApp({
    audit: auditor,
    logger,
    metrics,
    users,
    products,
    orders,
    stock,
    // As long as the first request may still be working on the order (its two catalog calls).
    replayWaitMs: 3 * config.UPSTREAM_TIMEOUT_MS,
    placementLimit: pLimit(config.ORDER_PLACEMENT_CONCURRENCY),
    healthChecks: {
      ...runtime.healthChecks,
      catalog: upstreamCheck(catalogHttp),
      user: upstreamCheck(userHttp),
    },
  });

  return {
    app,
    prisma,
    cluster,
    cache,
    bus,
    relay,
    auditor,
    metrics,
    settler,
    async start() {
      await bus.start();
      relay.start();
      settler.start();
      if (runtime.auditEnabled) auditor.start();
    },
    closers: [{ name: 'order-settler', close: () => settler.close() }, ...runtime.closers],
  };
}

/**
 * Not critical for readiness: with catalog or user down, orders already cached still read,
 * and an instance that reports not-ready would only move the 503s elsewhere.
 */
function upstreamCheck(http: ServiceClient): HealthCheck {
  return async () => {
    const response = await http.request('GET', '/health/live');
    return { status: response.status === 200 ? 'up' : 'down' };
  };
}
