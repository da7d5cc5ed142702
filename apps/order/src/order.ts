import { VersionFloors, type InstanceInvalidationFeed } from '@memshop/cache';
import {
  composeService,
  ServiceTokenSigner,
  type ComposedService,
  type HealthCheck,
  type ServiceOverrides,
} from '@memshop/service-kit';
import pLimit from 'p-limit';
import { createApp } from './app';
import type { OrderConfig } from './config';
import { orderCacheKeys, type OrderCacheKeys } from './data/cache-keys';
import { CatalogClient } from './data/catalog-client';
import { OrderRepository } from './data/order-repository';
import { OrderSettler } from './data/order-settler';
import { CachedOrderStore } from './data/order-store';
import { orderAuditSources } from './data/order-audit';
import { CachedProductDirectory } from './data/product-directory';
import { PRODUCT_TTL_SECONDS } from './data/summaries';
import { ServiceClient } from './data/service-client';
import { UserClient } from './data/user-client';
import { CachedUserDirectory } from './data/user-directory';
import { createEarlyPurgeFeed } from './events/early-purge-feed';
import { createUpstreamInvalidationHandler, ORDER_EVENT_BINDINGS } from './events/upstream-invalidation';
import type { StockReservations } from './domain/order';
import { PrismaClient } from './prisma/generated/client';

/** Its auditor compares order-service's copies of products and users with their owners' versions. */
export type OrderService = ComposedService<
  PrismaClient,
  {
    /** Finishes the orders requests left pending; started by start(). */
    settler: OrderSettler;
    /** order-service's cached copies of catalog products. */
    products: CachedProductDirectory;
    /** catalog's API with order-service's own credential (what the copies are refilled from). */
    catalog: CatalogClient;
    keys: OrderCacheKeys;
    /** Purges copies ahead of the durable queue's delivery; null with INVALIDATION_EARLY_PURGE=false. */
    earlyPurgeFeed: InstanceInvalidationFeed | null;
  }
>;

/**
 * order-service from its config: Prisma, the memcached ring, cache, bus, relay and auditor
 * (composeService), the HTTP clients of catalog and user, the settler, and the app. main.ts and
 * every test harness build it here, so tests run the production wiring. No I/O until start().
 */
export function createOrderService(config: OrderConfig, overrides: ServiceOverrides = {}): OrderService {
  const options = { service: 'order', config, PrismaClient, bindings: ORDER_EVENT_BINDINGS, overrides };
  return composeService(
    options,
    ({ logger, metrics, prisma, runtime, authenticate, rateLimits, requestDeadlineMs }) => {
      const { cache, bus, relay } = runtime;

      const keys = orderCacheKeys(config.CACHE_SCHEMA_VERSION);
      // order-service's own credential: catalog's stock endpoints and user's GET /users/:id accept
      // its short-lived tokens, each addressed to the service called.
      const signer = new ServiceTokenSigner({ keyFile: config.SERVICE_TOKEN_KEY_FILE });
      const catalogHttp = new ServiceClient({
        service: 'catalog',
        baseUrl: config.CATALOG_URL,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        bearerToken: () => signer.tokenFor('catalog'),
      });
      const userHttp = new ServiceClient({
        service: 'user',
        baseUrl: config.USER_URL,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        bearerToken: () => signer.tokenFor('user'),
      });
      const catalog = new CatalogClient(catalogHttp);
      const userClient = new UserClient(userHttp);
      const users = new CachedUserDirectory(cache, userClient, keys);
      const productFloors = new VersionFloors<number>(cache, {
        keyOf: keys.productFloor,
        // catalog fixes its own entry milliseconds after the commit it publishes at, or (its
        // writer dead) its consumer does within the bus delay: a copy's TTL is far beyond both.
        ttlSeconds: PRODUCT_TTL_SECONDS,
        entity: 'product-floor',
      });
      const products = new CachedProductDirectory(cache, catalog, keys, productFloors);
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

      const purgeUpstreamCopy = createUpstreamInvalidationHandler({ cache, keys, productFloors, logger });
      bus.subscribe(purgeUpstreamCopy);
      const earlyPurgeFeed = config.INVALIDATION_EARLY_PURGE
        ? createEarlyPurgeFeed({
            url: config.RABBITMQ_URL,
            exchange: config.INVALIDATION_EXCHANGE,
            purge: purgeUpstreamCopy,
            reconnectMaxDelayMs: overrides.cache?.busReconnectMaxDelayMs,
            logger,
          })
        : null;
      // Copies purged by events must not outlive a gap in the event feed: events missed while
      // disconnected would otherwise leave them stale until their TTL.
      cache.trackInvalidationFeed(bus, ['product', 'user']);
      const auditor = runtime.createAuditor(orderAuditSources({ prisma, keys, catalog, users: userClient }));

      const healthChecks = {
        ...runtime.healthChecks,
        ...(earlyPurgeFeed
          ? { rabbitmq: withEarlyPurgeState(runtime.healthChecks.rabbitmq, earlyPurgeFeed) }
          : {}),
        catalog: upstreamCheck(catalogHttp),
        user: upstreamCheck(userHttp),
      };
      const app = createApp({
        authenticate,
        audit: auditor,
        rateLimits,
        requestDeadlineMs,
        logger,
        metrics,
        users,
        products,
        orders,
        stock,
        // As long as the first request may still be working on the order (its two catalog calls).
        replayWaitMs: 3 * config.UPSTREAM_TIMEOUT_MS,
        placementLimit: pLimit(config.ORDER_PLACEMENT_CONCURRENCY),
        healthChecks,
      });

      return {
        app,
        auditor,
        healthChecks,
        tasks: [
          { name: 'order-settler', start: () => settler.start(), close: () => settler.close() },
          ...(earlyPurgeFeed
            ? [
                {
                  name: 'early-purge-feed',
                  start: () => void earlyPurgeFeed.start(),
                  close: () => earlyPurgeFeed.close(),
                },
              ]
            : []),
        ],
        preflight: [() => signer.load()],
        parts: { settler, products, catalog, keys, earlyPurgeFeed },
      };
    },
  );
}

/**
 * The broker check with the early purge's feed beside the queue, as the near cache's feed is
 * shown: a detail, not a readiness condition, since the durable queue still purges every copy
 * while the feed is down, a millisecond or so later.
 */
function withEarlyPurgeState(rabbitmq: HealthCheck, feed: InstanceInvalidationFeed): HealthCheck {
  return async () => {
    const result = await rabbitmq();
    const detail = typeof result.detail === 'object' && result.detail !== null ? result.detail : {};
    return { ...result, detail: { ...detail, earlyPurge: feed.connected ? 'connected' : 'disconnected' } };
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
