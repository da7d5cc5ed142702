import {
  Cache,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
  type CacheMetrics,
} from '@memshop/cache';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { serviceEnvShape } from './config';
import { databaseCheck, memcachedCheck, rabbitmqCheck, type HealthCheck } from './health';
import type { Closable } from './lifecycle';
import type { Logger } from './logger';

type ServiceEnv = z.infer<z.ZodObject<typeof serviceEnvShape>>;

/** The serviceEnvShape fields the cache runtime reads. */
export type CacheRuntimeConfig = Pick<
  ServiceEnv,
  | 'MEMCACHED_SERVERS'
  | 'MEMCACHED_GUTTER_SERVERS'
  | 'MEMCACHED_USERNAME'
  | 'MEMCACHED_PASSWORD'
  | 'RABBITMQ_URL'
  | 'INVALIDATION_EXCHANGE'
  | 'INVALIDATION_QUEUE'
>;

/** A service's generated PrismaClient, as far as the outbox relay and the health check need it. */
export interface CacheRuntimePrisma {
  $queryRawUnsafe(query: string, ...values: unknown[]): Promise<unknown>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $disconnect(): Promise<void>;
}

export interface CacheRuntimeOptions {
  /** The service's name: labels its bus messages and names its default queue. */
  service: string;
  config: CacheRuntimeConfig;
  logger: Logger;
  /** The service's metrics registry; the cache metrics are registered on it. */
  registry: Registry;
  /** The service's Prisma client: the outbox lives in its database. */
  prisma: CacheRuntimePrisma;
  /** Routing-key patterns this service's queue consumes, e.g. CATALOG_EVENT_BINDINGS. */
  bindings: string[];
}

export interface CacheRuntime {
  cacheMetrics: CacheMetrics;
  cluster: CacheCluster;
  cache: Cache;
  bus: InvalidationBus;
  relay: OutboxRelay;
  /** database, memcached and rabbitmq readiness checks; a service adds its own after them. */
  healthChecks: { database: HealthCheck; memcached: HealthCheck; rabbitmq: HealthCheck };
  /**
   * relay, bus, cache, memcached, prisma: the relay stops publishing before the bus it
   * publishes on closes, and Prisma goes last because the relay and event handlers use it.
   */
  closers: Closable[];
}

/**
 * The memcached ring, cache, invalidation bus and outbox relay, built the same way for every
 * service from its env so that all of them hash keys onto the same ring and publish and consume
 * on the same exchange. Nothing connects until the caller starts the bus and the relay.
 */
export function createCacheRuntime({
  service,
  config,
  logger,
  registry,
  prisma,
  bindings,
}: CacheRuntimeOptions): CacheRuntime {
  const cacheMetrics = createPromCacheMetrics(registry);
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
    service,
    exchange: config.INVALIDATION_EXCHANGE,
    queue: config.INVALIDATION_QUEUE,
    bindings,
    logger,
    metrics: cacheMetrics,
  });
  const relay = new OutboxRelay({
    db: prismaSqlExecutor(prisma),
    publisher: bus,
    logger,
    metrics: cacheMetrics,
  });
  return {
    cacheMetrics,
    cluster,
    cache,
    bus,
    relay,
    healthChecks: {
      database: databaseCheck(prisma),
      memcached: memcachedCheck(cluster),
      rabbitmq: rabbitmqCheck(() => bus.connected),
    },
    closers: [
      { name: 'outbox-relay', close: () => relay.stop() },
      { name: 'invalidation-bus', close: () => bus.close() },
      { name: 'cache', close: () => cache.close() },
      { name: 'memcached', close: () => cluster.close() },
      { name: 'prisma', close: () => prisma.$disconnect() },
    ],
  };
}
