// The public surface of the cache library: what a service needs to cache, invalidate and
// observe its entities. Tuning knobs, wire details and building blocks for tooling are in
// `./advanced.ts` (`<package>/advanced`); anything exported by neither is internal.

export { Cache } from './cache-aside.js';
export type {
  CacheDefaults,
  CacheItemLike,
  CacheJsonResult,
  CacheOptions,
  CacheResult,
  CacheStatus,
  CacheStore,
  GetOrLoadOptions,
  PeekOptions,
} from './cache-options.js';
export { CacheCluster } from './cluster.js';
export type {
  CacheClusterOptions,
  CacheItem,
  CacheNodeStatus,
  CacheRoute,
  CacheTlsOptions,
  GetManyResult,
  IncrOptions,
  SetOptions,
} from './cluster-options.js';
export { keySpace, parseKeySpace } from './keys.js';
export type { KeySpace, KeySpaceOptions } from './keys.js';
export { CacheError } from './errors.js';
export type { CacheEntry, DecodedItem, EntryCodec } from './entry.js';
export type { LeaseOptions } from './lease.js';
export type { PopulateQueueOptions } from './populate-queue.js';

export { createInvalidationEvent } from './invalidation-event.js';
export type { InvalidationAction, InvalidationEvent, NewInvalidationEvent } from './invalidation-event.js';
export { InvalidationBus } from './invalidation-bus.js';
export type { InvalidationBusOptions } from './invalidation-bus-options.js';
export type { InvalidationHandler } from './invalidation-consumer.js';
export type { InvalidationFeedStatus } from './invalidation-feed-status.js';

export { NearCache } from './near-cache.js';
export type { NearCacheOptions } from './near-cache.js';
export { InstanceInvalidationFeed } from './instance-invalidation-feed.js';
export type { InstanceInvalidationFeedOptions } from './instance-invalidation-feed.js';
export { createNearCacheFeed } from './near-cache-feed.js';
export type { NearCacheFeedOptions } from './near-cache-feed.js';
export { VersionFloors } from './version-floors.js';
export type { VersionFloorsOptions } from './version-floors.js';
export { DownstreamCopies } from './downstream-copies.js';

export { enqueueOutboxEvent, outboxTableSql } from './outbox/outbox-table.js';
export type { OutboxTransaction } from './outbox/outbox-table.js';
export { OutboxRelay } from './outbox/outbox-relay.js';
export { OutboxListener } from './outbox/outbox-listener.js';
export type { OutboxListenerOptions, PgListenConnection } from './outbox/outbox-listener.js';
export type { OutboxPublisher, OutboxRelayOptions, ParkedOutboxRow } from './outbox/outbox-relay.js';
export type { SqlExecutor } from './outbox/sql-executor.js';
export { prismaSqlExecutor } from './outbox/prisma-sql-executor.js';
export { pgSqlExecutor } from './outbox/pg-sql-executor.js';
export type { PgQueryable } from './outbox/pg-sql-executor.js';

export { createPromCacheMetrics } from './metrics.js';
export type { CacheMetrics, PromCacheMetricsOptions } from './metrics.js';
export { CacheAuditor } from './cache-auditor.js';
export type { AuditedCache, AuditReport, AuditSource, CacheAuditorOptions } from './cache-auditor.js';
export type { LoggerLike } from './logger.js';
