import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Result label of `memshop_cache_requests_total`. */
export type CacheRequestResult = 'hit' | 'miss' | 'stale' | 'error' | 'bypass';

/** Result label of `memshop_cache_populate_total`. */
export type PopulateResult = 'stored' | 'lost_lease' | 'skipped_too_large' | 'error' | 'dropped';

/** Stage label of `memshop_invalidations_failed_total`. */
export type InvalidationFailureStage = 'publish' | 'consume';

/** Result label of `memshop_cache_audit_entries_total`. */
export type AuditResult = 'fresh' | 'stale' | 'orphan';

/**
 * What the cache library reports. The library never touches a global registry: the caller
 * passes an implementation (usually `createPromCacheMetrics(registry)`), or gets the no-op one.
 * Metric names are fixed by docs/architecture.md (dashboards query them).
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
  /** Commit time of the change to the moment its cache entries were purged. */
  observeInvalidationLag(entity: string, seconds: number): void;
  setOutboxBacklog(count: number): void;
  setOutboxOldestAge(seconds: number): void;
  /** A consumed message moved to the parking queue, by reason (malformed, too_large, handler_failed). */
  recordInvalidationParked(reason: string): void;
  /** Outbox rows parked after failing too often (kept in the table, no longer retried). */
  setOutboxParked(count: number): void;
  /** One cached entry the staleness auditor compared with its source of truth. */
  recordAuditedEntry(namespace: string, result: AuditResult): void;
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
});

/** The metric names the library exports (docs/architecture.md, "metrics.ts"). */
export const CACHE_METRIC_NAMES = [
  'memshop_cache_requests_total',
  'memshop_cache_operation_duration_seconds',
  'memshop_cache_node_ejections_total',
  'memshop_cache_node_up',
  'memshop_cache_loader_calls_total',
  'memshop_cache_loader_duration_seconds',
  'memshop_cache_populate_queue_depth',
  'memshop_cache_populate_total',
  'memshop_invalidations_published_total',
  'memshop_invalidations_consumed_total',
  'memshop_invalidations_failed_total',
  'memshop_invalidation_lag_seconds',
  'memshop_outbox_backlog',
  'memshop_outbox_oldest_age_seconds',
  'memshop_invalidations_parked_total',
  'memshop_outbox_parked',
  'memshop_cache_audit_entries_total',
] as const;

// Memcached round trips are sub-millisecond on a LAN; the op timeout (150 ms) caps the tail.
const OPERATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5];
const LOADER_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * prom-client metrics registered on `registry`. Calling it twice with the same registry
 * (several Cache or CacheCluster instances in one process) reuses the registered metrics
 * instead of throwing "already registered".
 */
export function createPromCacheMetrics(registry: Registry): CacheMetrics {
  function reuse<M>(name: string, create: () => M): M {
    return (registry.getSingleMetric(name) as M | undefined) ?? create();
  }
  const requests = reuse(
    'memshop_cache_requests_total',
    () =>
      new Counter({
        name: 'memshop_cache_requests_total',
        help: 'Cache-aside requests by namespace and result (hit, miss, stale, error, bypass)',
        labelNames: ['namespace', 'result'],
        registers: [registry],
      }),
  );
  const operations = reuse(
    'memshop_cache_operation_duration_seconds',
    () =>
      new Histogram({
        name: 'memshop_cache_operation_duration_seconds',
        help: 'Duration of memcached operations per node and operation',
        labelNames: ['node', 'op'],
        buckets: OPERATION_BUCKETS,
        registers: [registry],
      }),
  );
  const ejections = reuse(
    'memshop_cache_node_ejections_total',
    () =>
      new Counter({
        name: 'memshop_cache_node_ejections_total',
        help: 'Times a memcached node was taken out of the ring after consecutive failures',
        labelNames: ['node'],
        registers: [registry],
      }),
  );
  const nodeUp = reuse(
    'memshop_cache_node_up',
    () =>
      new Gauge({
        name: 'memshop_cache_node_up',
        help: '1 when the memcached node is in the ring, 0 when ejected',
        labelNames: ['node'],
        registers: [registry],
      }),
  );
  const loaderCalls = reuse(
    'memshop_cache_loader_calls_total',
    () =>
      new Counter({
        name: 'memshop_cache_loader_calls_total',
        help: 'Loader (database) calls made by the cache, per namespace',
        labelNames: ['namespace'],
        registers: [registry],
      }),
  );
  const loaderDuration = reuse(
    'memshop_cache_loader_duration_seconds',
    () =>
      new Histogram({
        name: 'memshop_cache_loader_duration_seconds',
        help: 'Duration of loader (database) calls, per namespace',
        labelNames: ['namespace'],
        buckets: LOADER_BUCKETS,
        registers: [registry],
      }),
  );
  const queueDepth = reuse(
    'memshop_cache_populate_queue_depth',
    () =>
      new Gauge({
        name: 'memshop_cache_populate_queue_depth',
        help: 'Background cache writes waiting or running',
        registers: [registry],
      }),
  );
  const populates = reuse(
    'memshop_cache_populate_total',
    () =>
      new Counter({
        name: 'memshop_cache_populate_total',
        help: 'Background cache writes by result (stored, lost_lease, skipped_too_large, error, dropped)',
        labelNames: ['result'],
        registers: [registry],
      }),
  );
  const published = reuse(
    'memshop_invalidations_published_total',
    () =>
      new Counter({
        name: 'memshop_invalidations_published_total',
        help: 'Invalidation events confirmed by the broker, per entity',
        labelNames: ['entity'],
        registers: [registry],
      }),
  );
  const consumed = reuse(
    'memshop_invalidations_consumed_total',
    () =>
      new Counter({
        name: 'memshop_invalidations_consumed_total',
        help: 'Invalidation events handled, per entity',
        labelNames: ['entity'],
        registers: [registry],
      }),
  );
  const failed = reuse(
    'memshop_invalidations_failed_total',
    () =>
      new Counter({
        name: 'memshop_invalidations_failed_total',
        help: 'Invalidation events that failed, per stage (publish, consume)',
        labelNames: ['stage'],
        registers: [registry],
      }),
  );
  const lag = reuse(
    'memshop_invalidation_lag_seconds',
    () =>
      new Histogram({
        name: 'memshop_invalidation_lag_seconds',
        help: 'Time from the commit of a change to the purge of its cache entries',
        labelNames: ['entity'],
        buckets: LAG_BUCKETS,
        registers: [registry],
      }),
  );
  const backlog = reuse(
    'memshop_outbox_backlog',
    () =>
      new Gauge({
        name: 'memshop_outbox_backlog',
        help: 'Outbox events not yet confirmed by the broker',
        registers: [registry],
      }),
  );
  const oldestAge = reuse(
    'memshop_outbox_oldest_age_seconds',
    () =>
      new Gauge({
        name: 'memshop_outbox_oldest_age_seconds',
        help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty)',
        registers: [registry],
      }),
  );

  const parked = reuse(
    'memshop_invalidations_parked_total',
    () =>
      new Counter({
        name: 'memshop_invalidations_parked_total',
        help: 'Consumed invalidation messages moved to the parking queue, per reason',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const outboxParked = reuse(
    'memshop_outbox_parked',
    () =>
      new Gauge({
        name: 'memshop_outbox_parked',
        help: 'Outbox rows parked after too many failed publishes (kept, no longer retried)',
        registers: [registry],
      }),
  );
  const audited = reuse(
    'memshop_cache_audit_entries_total',
    () =>
      new Counter({
        name: 'memshop_cache_audit_entries_total',
        help: 'Cached entries the staleness auditor compared with the source of truth, per namespace and result (fresh, stale, orphan)',
        labelNames: ['namespace', 'result'],
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
  };
}
