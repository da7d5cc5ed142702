import { Cache, CacheCluster, InvalidationBus } from '@memshop/cache';
import { createLogger } from '@memshop/service-kit';
import { rabbitUrl, uniqueName } from '@memshop/testing';
import { orderCacheKeys } from '../../../../apps/order/src/data/cache-keys';
import { CatalogClient } from '../../../../apps/order/src/data/catalog-client';
import { CachedProductDirectory } from '../../../../apps/order/src/data/product-directory';
import { ServiceClient } from '../../../../apps/order/src/data/service-client';
import {
  createUpstreamInvalidationHandler,
  ORDER_EVENT_BINDINGS,
} from '../../../../apps/order/src/events/upstream-invalidation';
import type { CatalogWorld } from './catalog-world';

/**
 * order-service's cached copies of catalog products, wired as apps/order/src/order-service.ts
 * wires them (its own cluster client and cache, its own durable queue purging `order:product:*`
 * on catalog.product.* events, the gap rule), reading catalog over HTTP. No order database: the
 * copies are what this suite checks.
 */
export interface OrderProductCopies {
  products: CachedProductDirectory;
  cache: Cache;
  cluster: CacheCluster;
  bus: InvalidationBus;
  keys: ReturnType<typeof orderCacheKeys>;
  consumedEventIds: Set<string>;
  close(): Promise<void>;
}

export async function startOrderProductCopies(
  world: CatalogWorld,
  catalogUrl: string,
): Promise<OrderProductCopies> {
  const logger = createLogger({ service: 'order', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const cluster = new CacheCluster({ servers: world.memcached.servers, logger });
  const cache = new Cache({ cluster, logger });
  const queue = uniqueName('resilience-order-q');
  world.trackQueue(queue);
  const bus = new InvalidationBus({
    url: rabbitUrl(),
    service: 'order',
    exchange: world.exchange,
    queue,
    bindings: ORDER_EVENT_BINDINGS,
    reconnectMaxDelayMs: 1000,
    logger,
  });
  const keys = orderCacheKeys(1);
  const consumedEventIds = new Set<string>();
  bus.subscribe(createUpstreamInvalidationHandler({ cache, keys, logger }));
  bus.subscribe(async (event) => {
    consumedEventIds.add(event.id);
  });
  cache.trackInvalidationFeed(bus, ['product', 'user']);
  const close = async () => {
    await bus.close().catch(() => undefined);
    await cache.close().catch(() => undefined);
    await cluster.close().catch(() => undefined);
  };
  try {
    await bus.start();
    if (!(await bus.waitUntilConnected(10_000))) throw new Error('order copies: RabbitMQ did not connect');
  } catch (err) {
    await close();
    throw err;
  }
  const http = new ServiceClient({ service: 'catalog', baseUrl: catalogUrl, timeoutMs: 5000 });
  return {
    products: new CachedProductDirectory(cache, new CatalogClient(http), keys),
    cache,
    cluster,
    bus,
    keys,
    consumedEventIds,
    close,
  };
}
