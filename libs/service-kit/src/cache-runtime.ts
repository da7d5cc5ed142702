import {
  Cache,
  CacheAuditor,
  CacheCluster,
  createNearCacheFeed,
  createPromCacheMetrics,
  InvalidationBus,
  NearCache,
  OutboxRelay,
  prismaSqlExecutor,
  type AuditSource,
  type CacheMetrics,
  type InstanceInvalidationFeed,
  type InvalidationEvent,
} from '@memshop/cache';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { serviceEnvShape } from './config';
import { databaseCheck, memcachedCheck, rabbitmqCheck, type HealthCheck } from './health';
import type { Closable } from './lifecycle';
import type { Logger } from './logger';
import { readMemcachedTls } from './memcached-tls';
import { OutboxRelayThread } from './outbox-relay-thread';
import {
  BROKER_NAME_PREFIX,
  DIAGNOSTICS_CHANNEL_PREFIX,
  KEY_GENERATION_PREFIX,
  METRIC_PREFIX,
  OUTBOX_TABLE,
  TRACER_NAME,
} from './memshop-cache-names';

type ServiceEnv = z.infer<z.ZodObject<typeof serviceEnvShape>>;

/** The serviceEnvShape fields the cache runtime reads. */
export type CacheRuntimeConfig = Pick<
  ServiceEnv,
  | 'DATABASE_URL'
  | 'MEMCACHED_SERVERS'
  | 'MEMCACHED_GUTTER_SERVERS'
  | 'MEMCACHED_USERNAME'
  | 'MEMCACHED_PASSWORD'
  | 'MEMCACHED_TLS_CA_FILE'
  | 'MEMCACHED_TLS_CERT_FILE'
  | 'MEMCACHED_TLS_KEY_FILE'
  | 'MEMCACHED_OP_TIMEOUT_MS'
  | 'RABBITMQ_URL'
  | 'INVALIDATION_EXCHANGE'
  | 'INVALIDATION_QUEUE'
  | 'INVALIDATION_DELIVERY_LIMIT'
  | 'CACHE_AUDIT_SAMPLE_SIZE'
  | 'CACHE_AUDIT_INTERVAL_MS'
  | 'CACHE_AUDIT_GRACE_MS'
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
  /** Defaults are right for production; tests shorten them or move the cache's clock. */
  tuning?: CacheRuntimeTuning;
  /** An in-process tier in front of memcached for hot keys of these prefixes. Default: none. */
  nearCache?: NearCacheRuntimeOptions;
  /**
   * The LISTEN channel of the events this service's writes announce at commit
   * (`enqueueOutboxEvent(tx, event, { notify })`): a relay thread publishes them from there.
   * Default: none (every event is published by the writer after its commit, or by the poll).
   */
  announceChannel?: string;
}

/** What a service opts into the near cache (L1), from its config. */
export interface NearCacheRuntimeOptions {
  keyPrefixes: string[];
  /** The keys an event makes stale ('all' when the event alone cannot name them). */
  keysOf: (event: InvalidationEvent) => string[] | 'all';
  maxBytes: number;
  ttlMs: number;
  minReadsPerSecond: number;
}

/** What tests change without re-wiring: the cache's clock, the relay's and the bus's timings. */
export interface CacheRuntimeTuning {
  clock?: () => number;
  relayPollIntervalMs?: number;
  relayRetryBaseSeconds?: number;
  relayRetryMaxSeconds?: number;
  busReconnectMaxDelayMs?: number;
  /** false: plain cache-aside without leases (the bench's cold-start comparison only). Default true. */
  leases?: boolean;
}

export interface CacheRuntime {
  cacheMetrics: CacheMetrics;
  cluster: CacheCluster;
  cache: Cache;
  bus: InvalidationBus;
  relay: OutboxRelay;
  /** The thread publishing announced events at their commit, when the service has a channel. */
  relayThread: OutboxRelayThread | null;
  /** The near cache and the per-instance feed that keeps it coherent, when the service opted in. */
  nearCache: NearCache | null;
  nearCacheFeed: InstanceInvalidationFeed | null;
  /** database, memcached and rabbitmq readiness checks; a service adds its own after them. */
  healthChecks: { database: HealthCheck; memcached: HealthCheck; rabbitmq: HealthCheck };
  /**
   * The staleness auditor over the service's own sources ("the source-of-truth version of these
   * ids", implemented in its data/ folder). Built once; its closer runs first. Start it with
   * `auditor.start()` unless CACHE_AUDIT_SAMPLE_SIZE is 0 (`auditEnabled`).
   */
  createAuditor(sources: AuditSource[]): CacheAuditor;
  auditEnabled: boolean;
  /**
   * relay thread, relay, bus, cache, memcached, prisma: the relay stops publishing before the bus it
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
  tuning = {},
  nearCache: nearCacheOptions,
  announceChannel,
}: CacheRuntimeOptions): CacheRuntime {
  const cacheMetrics = createPromCacheMetrics(registry, { prefix: METRIC_PREFIX });
  const cluster = new CacheCluster({
    servers: config.MEMCACHED_SERVERS,
    gutterServers: config.MEMCACHED_GUTTER_SERVERS.length > 0 ? config.MEMCACHED_GUTTER_SERVERS : undefined,
    username: config.MEMCACHED_USERNAME,
    password: config.MEMCACHED_PASSWORD,
    tls: readMemcachedTls(config),
    opTimeoutMs: config.MEMCACHED_OP_TIMEOUT_MS,
    logger,
    metrics: cacheMetrics,
  });
  const nearCache = nearCacheOptions
    ? new NearCache({
        store: cluster,
        keyPrefixes: nearCacheOptions.keyPrefixes,
        maxBytes: nearCacheOptions.maxBytes,
        ttlMs: nearCacheOptions.ttlMs,
        hotKeys: { minReadsPerSecond: nearCacheOptions.minReadsPerSecond },
        metrics: cacheMetrics,
        clock: tuning.clock,
      })
    : null;
  const cache = new Cache({
    cluster: nearCache ?? cluster,
    logger,
    metrics: cacheMetrics,
    keyGenerationPrefix: KEY_GENERATION_PREFIX,
    tracerName: TRACER_NAME,
    diagnosticsChannelPrefix: DIAGNOSTICS_CHANNEL_PREFIX,
    clock: tuning.clock,
    ...(tuning.leases === false ? { lease: { enabled: false } } : {}),
  });
  const bus = new InvalidationBus({
    url: config.RABBITMQ_URL,
    service,
    namePrefix: BROKER_NAME_PREFIX,
    exchange: config.INVALIDATION_EXCHANGE,
    queue: config.INVALIDATION_QUEUE,
    deliveryLimit: config.INVALIDATION_DELIVERY_LIMIT,
    bindings,
    reconnectMaxDelayMs: tuning.busReconnectMaxDelayMs,
    tracerName: TRACER_NAME,
    diagnosticsChannelPrefix: DIAGNOSTICS_CHANNEL_PREFIX,
    logger,
    metrics: cacheMetrics,
  });
  const nearCacheFeed =
    nearCache && nearCacheOptions
      ? createNearCacheFeed({
          url: config.RABBITMQ_URL,
          service,
          namePrefix: BROKER_NAME_PREFIX,
          exchange: config.INVALIDATION_EXCHANGE,
          bindings,
          nearCache,
          keysOf: nearCacheOptions.keysOf,
          reconnectMaxDelayMs: tuning.busReconnectMaxDelayMs,
          logger,
        })
      : null;
  const relay = new OutboxRelay({
    db: prismaSqlExecutor(prisma),
    table: OUTBOX_TABLE,
    publisher: bus,
    diagnosticsChannelPrefix: DIAGNOSTICS_CHANNEL_PREFIX,
    pollIntervalMs: tuning.relayPollIntervalMs,
    retryBaseSeconds: tuning.relayRetryBaseSeconds,
    retryMaxSeconds: tuning.relayRetryMaxSeconds,
    logger,
    metrics: cacheMetrics,
  });
  const relayThread =
    announceChannel === undefined
      ? null
      : new OutboxRelayThread(
          {
            service,
            logLevel: logger.level,
            databaseUrl: config.DATABASE_URL,
            rabbitmqUrl: config.RABBITMQ_URL,
            namePrefix: BROKER_NAME_PREFIX,
            exchange: config.INVALIDATION_EXCHANGE,
            table: OUTBOX_TABLE,
            channel: announceChannel,
            diagnosticsChannelPrefix: DIAGNOSTICS_CHANNEL_PREFIX,
          },
          logger,
          cacheMetrics,
        );
  const closers: Closable[] = [
    ...(relayThread ? [{ name: 'outbox-relay-thread', close: () => relayThread.close() }] : []),
    { name: 'outbox-relay', close: () => relay.stop() },
    { name: 'invalidation-bus', close: () => bus.close() },
    ...(nearCacheFeed ? [{ name: 'near-cache-feed', close: () => nearCacheFeed.close() }] : []),
    { name: 'cache', close: () => cache.close() },
    { name: 'memcached', close: () => cluster.close() },
    { name: 'prisma', close: () => prisma.$disconnect() },
  ];
  return {
    cacheMetrics,
    cluster,
    cache,
    bus,
    relay,
    relayThread,
    nearCache,
    nearCacheFeed,
    healthChecks: {
      database: databaseCheck(prisma),
      memcached: memcachedCheck(cluster),
      rabbitmq: rabbitmqCheck(
        () => bus.connected,
        () => ({
          queue: bus.queue,
          ...(bus.disconnectedSince === null
            ? {}
            : { feed: 'disconnected', since: new Date(bus.disconnectedSince).toISOString() }),
          // Not a readiness condition: while it is down the near cache is bypassed, not stale.
          ...(nearCacheFeed ? { nearCacheFeed: nearCacheFeed.connected ? 'connected' : 'bypassed' } : {}),
        }),
      ),
    },
    auditEnabled: config.CACHE_AUDIT_SAMPLE_SIZE > 0,
    createAuditor(sources) {
      const auditor = new CacheAuditor({
        cache,
        sources,
        sampleSize: Math.max(1, config.CACHE_AUDIT_SAMPLE_SIZE),
        intervalMs: config.CACHE_AUDIT_INTERVAL_MS,
        graceMs: config.CACHE_AUDIT_GRACE_MS,
        metrics: cacheMetrics,
        logger,
      });
      // It reads the cache and the database: stopped before either closes.
      closers.unshift({ name: 'cache-auditor', close: () => auditor.stop() });
      return auditor;
    },
    closers,
  };
}
