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
  CacheWriteNotConfirmedError,
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
  decodeInvalidationEvent,
  invalidationRoutingKey,
  parseInvalidationEvent,
  type InvalidationAction,
  type InvalidationDecodeResult,
  type InvalidationEvent,
  type NewInvalidationEvent,
} from './invalidation-event';
export {
  InvalidationBus,
  InvalidationBusUnavailableError,
  InvalidationPublishError,
  InvalidationUnroutableError,
  type InvalidationBusOptions,
  type InvalidationFeedStatus,
  type InvalidationHandler,
} from './invalidation-bus';
export {
  defaultInvalidationQueue,
  invalidationTopology,
  legacyInvalidationQueue,
  PARKED_HEADERS,
  parkedMessageInfo,
  type InvalidationTopology,
  type ParkedMessageInfo,
  type ParkedReason,
} from './invalidation-topology';
export { ParkedInvalidations, type ParkedInvalidation } from './parked-invalidations';
export {
  CacheAuditor,
  type AuditedCache,
  type AuditReport,
  type AuditSource,
  type CacheAuditorOptions,
} from './cache-auditor';
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
  type ParkedOutboxRow,
  type SqlExecutor,
} from './outbox';
export {
  CACHE_METRIC_NAMES,
  createPromCacheMetrics,
  noopCacheMetrics,
  type AuditResult,
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
