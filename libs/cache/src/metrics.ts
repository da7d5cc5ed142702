import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Result label of `cache_requests_total`. */
export type CacheRequestResult = 'hit' | 'miss' | 'stale' | 'error' | 'bypass';

/** Result label of `cache_populate_total`. */
export type PopulateResult = 'stored' | 'lost_lease' | 'skipped_too_large' | 'error' | 'dropped';

/** Stage label of `invalidations_failed_total`. */
export type InvalidationFailureStage = 'publish' | 'consume';

/** Result label of `near_cache_reads_total`: served from L1, read from memcached, or L1 bypassed (feed down). */
export type NearCacheReadResult = 'hit' | 'miss' | 'bypass';

/** Reason label of `near_cache_evictions_total`. */
export type NearCacheEvictionReason = 'write' | 'event' | 'clear' | 'size';

/** Result label of `cache_audit_entries_total`. */
export type AuditResult = 'fresh' | 'stale' | 'orphan';

/**
 * What the cache library reports. The library never touches a global registry: the caller
 * passes an implementation (usually `createPromCacheMetrics(registry)`), or gets the no-op one.
 */
export interface CacheMetrics {
  /** One cache-aside request (getOrLoad, or one key of getManyOrLoad). */
  recordRequest(namespace: string, result: CacheRequestResult): void;
  /** Duration of one memcached operation on one node (get, getMany, set, add, delete, incr). */
  observeOperation(node: string, op: string, seconds: number): void;
  recordNodeEjection(node: string): void;
  setNodeUp(node: string, up: boolean): void;
  /** One loader (database) call and how long it took. */
  recordLoaderCall(namespace: string, seconds: number): void;
  setPopulateQueueDepth(depth: number): void;
  recordPopulate(result: PopulateResult): void;
  recordInvalidationPublished(entity: string): void;
  recordInvalidationConsumed(entity: string): void;
  recordInvalidationFailed(stage: InvalidationFailureStage): void;
  /** The event's `occurredAt` (stamped just before the commit) to the moment its entries were purged. */
  observeInvalidationLag(entity: string, seconds: number): void;
  setOutboxBacklog(count: number): void;
  setOutboxOldestAge(seconds: number): void;
  /** A consumed message moved to the parking queue, by reason (malformed, too_large, handler_failed). */
  recordInvalidationParked(reason: string): void;
  /** Outbox rows parked after failing too often (kept in the table, no longer retried). */
  setOutboxParked(count: number): void;
  /** One cached entry the staleness auditor compared with its source of truth. */
  recordAuditedEntry(namespace: string, result: AuditResult): void;
  /** One read of a key the near cache (L1) covers. */
  recordNearCacheRead(result: NearCacheReadResult): void;
  /** A hot key copied into the near cache. */
  recordNearCachePromotion(): void;
  /** Near-cache entries dropped, by reason (own write, bus event, feed gap, size bound). */
  recordNearCacheEviction(reason: NearCacheEvictionReason, count: number): void;
  /** Bytes the near cache holds (its `sizeCalculation` total). */
  setNearCacheBytes(bytes: number): void;
}

const noop = (): void => undefined;

/** The default: costs nothing, records nothing. */
export const noopCacheMetrics: CacheMetrics = Object.freeze({
  recordRequest: noop,
  observeOperation: noop,
  recordNodeEjection: noop,
  setNodeUp: noop,
  recordLoaderCall: noop,
  setPopulateQueueDepth: noop,
  recordPopulate: noop,
  recordInvalidationPublished: noop,
  recordInvalidationConsumed: noop,
  recordInvalidationFailed: noop,
  observeInvalidationLag: noop,
  setOutboxBacklog: noop,
  setOutboxOldestAge: noop,
  recordInvalidationParked: noop,
  setOutboxParked: noop,
  recordAuditedEntry: noop,
  recordNearCacheRead: noop,
  recordNearCachePromotion: noop,
  recordNearCacheEviction: noop,
  setNearCacheBytes: noop,
});

/** The metric names the library exports, before the `prefix` of `createPromCacheMetrics`. */
export const CACHE_METRIC_NAMES = [
  'cache_requests_total',
  'cache_operation_duration_seconds',
  'cache_node_ejections_total',
  'cache_node_up',
  'cache_loader_calls_total',
  'cache_loader_duration_seconds',
  'cache_populate_queue_depth',
  'cache_populate_total',
  'invalidations_published_total',
  'invalidations_consumed_total',
  'invalidations_failed_total',
  'invalidation_lag_seconds',
  'outbox_backlog',
  'outbox_oldest_age_seconds',
  'invalidations_parked_total',
  'outbox_parked',
  'cache_audit_entries_total',
  'near_cache_reads_total',
  'near_cache_promotions_total',
  'near_cache_evictions_total',
  'near_cache_bytes',
] as const;

// Memcached round trips are sub-millisecond on a LAN; the op timeout (150 ms) caps the tail.
const OPERATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5];
const LOADER_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface PromCacheMetricsOptions {
  /**
   * Put before every name in `CACHE_METRIC_NAMES` (`myapp_` gives `myapp_cache_requests_total`).
   * Default '' (as prom-client's own `collectDefaultMetrics`): `cache_requests_total`, ….
   */
  prefix?: string;
}

/**
 * prom-client metrics registered on `registry`. Calling it twice with the same registry and
 * prefix (several Cache or CacheCluster instances in one process) reuses the registered
 * metrics instead of throwing "already registered".
 */
export function createPromCacheMetrics(
  registry: Registry,
  options: PromCacheMetricsOptions = {},
): CacheMetrics {
  const prefix = options.prefix ?? '';
  if (!/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new TypeError(`metric prefix ${JSON.stringify(prefix)} is not a Prometheus name prefix`);
  }
  function reuse<M>(base: (typeof CACHE_METRIC_NAMES)[number], create: (name: string) => M): M {
    const name = prefix + base;
    return (registry.getSingleMetric(name) as M | undefined) ?? create(name);
  }
  const requests = reuse(
    'cache_requests_total',
    (name) =>
      new Counter({
        name,
        help: 'Cache-aside requests by namespace and result (hit, miss, stale, error, bypass)',
        labelNames: ['namespace', 'result'],
        registers: [registry],
      }),
  );
  const operations = reuse(
    'cache_operation_duration_seconds',
    (name) =>
      new Histogram({
        name,
        help: 'Duration of memcached operations per node and operation',
        labelNames: ['node', 'op'],
        buckets: OPERATION_BUCKETS,
        registers: [registry],
      }),
  );
  const ejections = reuse(
    'cache_node_ejections_total',
    (name) =>
      new Counter({
        name,
        help: 'Times a memcached node was taken out of the ring after consecutive failures',
        labelNames: ['node'],
        registers: [registry],
      }),
  );
  const nodeUp = reuse(
    'cache_node_up',
    (name) =>
      new Gauge({
        name,
        help: '1 when the memcached node is in the ring, 0 when ejected',
        labelNames: ['node'],
        registers: [registry],
      }),
  );
  const loaderCalls = reuse(
    'cache_loader_calls_total',
    (name) =>
      new Counter({
        name,
        help: 'Loader (database) calls made by the cache, per namespace',
        labelNames: ['namespace'],
        registers: [registry],
      }),
  );
  const loaderDuration = reuse(
    'cache_loader_duration_seconds',
    (name) =>
      new Histogram({
        name,
        help: 'Duration of loader (database) calls, per namespace',
        labelNames: ['namespace'],
        buckets: LOADER_BUCKETS,
        registers: [registry],
      }),
  );
  const queueDepth = reuse(
    'cache_populate_queue_depth',
    (name) =>
      new Gauge({
        name,
        help: 'Background cache writes waiting or running',
        registers: [registry],
      }),
  );
  const populates = reuse(
    'cache_populate_total',
    (name) =>
      new Counter({
        name,
        help: 'Background cache writes by result (stored, lost_lease, skipped_too_large, error, dropped)',
        labelNames: ['result'],
        registers: [registry],
      }),
  );
  const published = reuse(
    'invalidations_published_total',
    (name) =>
      new Counter({
        name,
        help: 'Invalidation events confirmed by the broker, per entity',
        labelNames: ['entity'],
        registers: [registry],
      }),
  );
  const consumed = reuse(
    'invalidations_consumed_total',
    (name) =>
      new Counter({
        name,
        help: 'Invalidation events handled, per entity',
        labelNames: ['entity'],
        registers: [registry],
      }),
  );
  const failed = reuse(
    'invalidations_failed_total',
    (name) =>
      new Counter({
        name,
        help: 'Invalidation events that failed, per stage (publish, consume)',
        labelNames: ['stage'],
        registers: [registry],
      }),
  );
  const lag = reuse(
    'invalidation_lag_seconds',
    (name) =>
      new Histogram({
        name,
        help: 'Time from the commit of a change to the purge of its cache entries',
        labelNames: ['entity'],
        buckets: LAG_BUCKETS,
        registers: [registry],
      }),
  );
  const backlog = reuse(
    'outbox_backlog',
    (name) =>
      new Gauge({
        name,
        help: 'Outbox events not yet confirmed by the broker',
        registers: [registry],
      }),
  );
  const oldestAge = reuse(
    'outbox_oldest_age_seconds',
    (name) =>
      new Gauge({
        name,
        help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty)',
        registers: [registry],
      }),
  );

  const parked = reuse(
    'invalidations_parked_total',
    (name) =>
      new Counter({
        name,
        help: 'Consumed invalidation messages moved to the parking queue, per reason',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const outboxParked = reuse(
    'outbox_parked',
    (name) =>
      new Gauge({
        name,
        help: 'Outbox rows parked after too many failed publishes (kept, no longer retried)',
        registers: [registry],
      }),
  );
  const audited = reuse(
    'cache_audit_entries_total',
    (name) =>
      new Counter({
        name,
        help: 'Cached entries the staleness auditor compared with the source of truth, per namespace and result (fresh, stale, orphan)',
        labelNames: ['namespace', 'result'],
        registers: [registry],
      }),
  );

  const nearReads = reuse(
    'near_cache_reads_total',
    (name) =>
      new Counter({
        name,
        help: 'Reads of near-cache (L1) keys by result (hit, miss, bypass while the feed is down)',
        labelNames: ['result'],
        registers: [registry],
      }),
  );
  const nearPromotions = reuse(
    'near_cache_promotions_total',
    (name) =>
      new Counter({
        name,
        help: 'Hot keys copied into the near cache (L1)',
        registers: [registry],
      }),
  );
  const nearEvictions = reuse(
    'near_cache_evictions_total',
    (name) =>
      new Counter({
        name,
        help: 'Near-cache (L1) entries dropped, by reason (write, event, clear, size)',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const nearBytes = reuse(
    'near_cache_bytes',
    (name) =>
      new Gauge({
        name,
        help: 'Bytes held by the near cache (L1)',
        registers: [registry],
      }),
  );

  return {
    recordRequest: (namespace, result) => requests.inc({ namespace, result }),
    observeOperation: (node, op, seconds) => operations.observe({ node, op }, seconds),
    recordNodeEjection: (node) => ejections.inc({ node }),
    setNodeUp: (node, up) => nodeUp.set({ node }, up ? 1 : 0),
    recordLoaderCall: (namespace, seconds) => {
      loaderCalls.inc({ namespace });
      loaderDuration.observe({ namespace }, seconds);
    },
    setPopulateQueueDepth: (depth) => queueDepth.set(depth),
    recordPopulate: (result) => populates.inc({ result }),
    recordInvalidationPublished: (entity) => published.inc({ entity }),
    recordInvalidationConsumed: (entity) => consumed.inc({ entity }),
    recordInvalidationFailed: (stage) => failed.inc({ stage }),
    observeInvalidationLag: (entity, seconds) => lag.observe({ entity }, Math.max(0, seconds)),
    setOutboxBacklog: (count) => backlog.set(count),
    setOutboxOldestAge: (seconds) => oldestAge.set(Math.max(0, seconds)),
    recordInvalidationParked: (reason) => parked.inc({ reason }),
    setOutboxParked: (count) => outboxParked.set(count),
    recordAuditedEntry: (namespace, result) => audited.inc({ namespace, result }),
    recordNearCacheRead: (result) => nearReads.inc({ result }),
    recordNearCachePromotion: () => nearPromotions.inc(),
    recordNearCacheEviction: (reason, count) => nearEvictions.inc({ reason }, count),
    setNearCacheBytes: (bytes) => nearBytes.set(bytes),
  };
}
