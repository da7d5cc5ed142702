import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import type { Cache, CacheCluster, InvalidationBus } from '@memshop/cache';
import { componentTestOverrides, parseConfig } from '@memshop/service-kit';
import { loadedMachineMemcachedEnv, rabbitUrl, uniqueName, withTestInfrastructure } from '@memshop/testing';
import type { OrderCacheKeys } from '../../../../apps/order/src/data/cache-keys';
import type { CachedProductDirectory } from '../../../../apps/order/src/data/product-directory';
import { orderConfigSchema } from '../../../../apps/order/src/config';
import { createOrderService } from '../../../../apps/order/src/order';
import type { CatalogWorld } from './catalog-world';
import { startConsuming } from './start-consuming';

const ORDER_SCHEMA_PATH = path.join(__dirname, '../../../../apps/order/src/prisma/schema.prisma');

/**
 * order-service's cached copies of catalog products, from order's composition root as
 * apps/order/src/main.ts builds it (its own cluster client and cache, its own durable queue
 * purging `order:product:*` on catalog.product.* events, the gap rule), reading catalog over
 * HTTP. Its order database is empty: the copies are what this suite checks.
 */
export interface OrderProductCopies {
  products: CachedProductDirectory;
  cache: Cache;
  cluster: CacheCluster;
  bus: InvalidationBus;
  keys: OrderCacheKeys;
  consumedEventIds: Set<string>;
  close(): Promise<void>;
}

export async function startOrderProductCopies(
  world: CatalogWorld,
  catalogUrl: string,
): Promise<OrderProductCopies> {
  return withTestInfrastructure(async (infra) => {
    const database = await infra.database('resilience-order', (databaseUrl) =>
      deployMigrations({ schemaPath: ORDER_SCHEMA_PATH, databaseUrl }),
    );
    const queue = uniqueName('resilience-order-q');
    world.trackQueue(queue);
    const config = parseConfig(orderConfigSchema, {
      ...world.auth.envFor('order'),
      DATABASE_URL: database.url,
      MEMCACHED_SERVERS: world.memcached.servers.join(','),
      RABBITMQ_URL: rabbitUrl(),
      INVALIDATION_EXCHANGE: world.exchange,
      INVALIDATION_QUEUE: queue,
      CATALOG_URL: catalogUrl,
      // No user-service in this suite: nothing here reads a user (only the readiness check would).
      USER_URL: 'http://127.0.0.1:9',
      UPSTREAM_TIMEOUT_MS: '5000',
      // The suite compares the copies with the truth itself; a background audit would only add load.
      CACHE_AUDIT_SAMPLE_SIZE: '0',
      ...loadedMachineMemcachedEnv,
    });
    const { overrides } = componentTestOverrides('order', { cache: { busReconnectMaxDelayMs: 1000 } });
    const service = createOrderService(config, overrides);
    const consumedEventIds = await startConsuming(infra, service, 'order copies');
    return {
      products: service.products,
      cache: service.cache,
      cluster: service.cluster,
      bus: service.bus,
      keys: service.keys,
      consumedEventIds,
      close: () => infra.close(),
    };
  });
}
