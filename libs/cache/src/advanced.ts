// Building blocks for operators and tooling: typed errors to tell failures apart, the invalidation
// topology and parked-message tools, metric and diagnostics-channel names, tracing helpers, key
// helpers and the two envelope functions tools use to inspect or plant cache entries.

export {
  CacheCodecError,
  CacheConnectionError,
  CacheKeyError,
  CacheProtocolError,
  CacheTimeoutError,
  CacheUnavailableError,
  CacheWriteNotConfirmedError,
  InvalidationBusUnavailableError,
  InvalidationPublishError,
  InvalidationUnroutableError,
} from './errors.js';
export { escapeId, isValidMemcachedKey, MAX_KEY_BYTES, toMemcachedKey } from './keys.js';
export {
  decodeEnvelope,
  decodeEnvelopeRaw,
  DEFAULT_MAX_VALUE_BYTES,
  encodeEnvelope,
  FORMAT_VERSION,
} from './codec.js';
export type { CacheEnvelope, DecodeResult, EnvelopeFields, RawDecodeResult } from './codec.js';
export { defaultEntryCodec, StoredJson } from './entry.js';
export {
  decodeInvalidationEvent,
  invalidationRoutingKey,
  parseInvalidationEvent,
} from './invalidation-event.js';
export type { InvalidationDecodeResult } from './invalidation-event.js';
export {
  DEFAULT_NAME_PREFIX,
  defaultInvalidationExchange,
  defaultInvalidationQueue,
  invalidationTopology,
  legacyInvalidationQueue,
  PARKED_HEADERS,
  PARKING_DELIVERY_LIMIT,
  parkedMessageInfo,
} from './invalidation-topology.js';
export type { InvalidationTopology, ParkedMessageInfo, ParkedReason } from './invalidation-topology.js';
export { ParkedInvalidations } from './parked-invalidations.js';
export type { ParkedInvalidation } from './parked-invalidations.js';
export { DEFAULT_OUTBOX_TABLE } from './outbox/outbox-table.js';
export { CACHE_METRIC_NAMES, noopCacheMetrics } from './metrics.js';
export type {
  AuditResult,
  CacheRequestResult,
  InvalidationFailureStage,
  NearCacheEvictionReason,
  NearCacheReadResult,
  PopulateResult,
} from './metrics.js';
export {
  CACHE_CHANNEL_NAMES,
  cacheChannelNames,
  CacheTracing,
  DEFAULT_CHANNEL_PREFIX,
  DEFAULT_TRACER_NAME,
  extractTraceContext,
  injectTraceHeaders,
} from './tracing.js';
export type { CacheChannelName, CacheTracingOptions } from './tracing.js';
export { RateLimitedLogger, silentLogger } from './logger.js';
export type { RateLimitedLoggerOptions } from './logger.js';
