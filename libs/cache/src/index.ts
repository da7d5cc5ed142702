// Public surface of @memshop/cache. Everything not exported here is internal.

export {
  CacheCluster,
  type CacheClusterOptions,
  type CacheItem,
  type CacheNodeStatus,
  type CacheRoute,
  type GetManyResult,
  type IncrOptions,
  type SetOptions,
} from './cluster';
export {
  escapeId,
  isValidMemcachedKey,
  keySpace,
  MAX_KEY_BYTES,
  toMemcachedKey,
  type KeySpace,
  type KeySpaceOptions,
} from './keys';
export {
  decodeEnvelope,
  DEFAULT_MAX_VALUE_BYTES,
  encodeEnvelope,
  encodeLease,
  FORMAT_VERSION,
  isLease,
  leaseToken,
  type CacheEnvelope,
  type DecodeResult,
  type EnvelopeFields,
} from './codec';
export {
  CacheCodecError,
  CacheConnectionError,
  CacheError,
  CacheKeyError,
  CacheProtocolError,
  CacheTimeoutError,
  CacheUnavailableError,
} from './errors';

export {
  Cache,
  type CacheDefaults,
  type CacheItemLike,
  type CacheOptions,
  type CacheResult,
  type CacheStatus,
  type CacheStore,
  type GetOrLoadOptions,
} from './cache-aside';
export { defaultEntryCodec, type CacheEntry, type DecodedItem, type EntryCodec } from './entry';
export { type LeaseOptions } from './lease';
export { type PopulateQueueOptions } from './populate-queue';
export {
  createInvalidationEvent,
  InvalidationBus,
  InvalidationBusUnavailableError,
  InvalidationPublishError,
  invalidationRoutingKey,
  parseInvalidationEvent,
  type InvalidationAction,
  type InvalidationBusOptions,
  type InvalidationEvent,
  type InvalidationFeedStatus,
  type InvalidationHandler,
  type NewInvalidationEvent,
} from './invalidation-bus';
export {
  enqueueOutboxEvent,
  OUTBOX_TABLE,
  OUTBOX_TABLE_SQL,
  OutboxRelay,
  pgSqlExecutor,
  prismaSqlExecutor,
  type OutboxPublisher,
  type OutboxRelayOptions,
  type OutboxTransaction,
  type SqlExecutor,
} from './outbox';
export {
  CACHE_METRIC_NAMES,
  createPromCacheMetrics,
  noopCacheMetrics,
  type CacheMetrics,
  type CacheRequestResult,
  type InvalidationFailureStage,
  type PopulateResult,
} from './metrics';
export {
  CACHE_CHANNEL_NAMES,
  CacheTracing,
  DEFAULT_TRACER_NAME,
  extractTraceContext,
  injectTraceHeaders,
  type CacheChannelName,
} from './tracing';
export { RateLimitedLogger, silentLogger, type LoggerLike, type RateLimitedLoggerOptions } from './logger';
