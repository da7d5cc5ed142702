import { cacheChannelNames } from '@memshop/cache/advanced';

// The names this project's deployments already use for what the cache library keeps in
// memcached, RabbitMQ, Postgres, Prometheus and node:diagnostics_channel, so the library's
// neutral defaults change nothing a running system, a dashboard, an alert or an operator sees.
// Every service passes them through cache-runtime.ts.

/** Prefix of the key-generation counters (category product lists). */
export const KEY_GENERATION_PREFIX = 'memshop:ns:';

/** Before every cache metric name: `memshop_cache_requests_total`, … (infra/ dashboards and alerts). */
export const METRIC_PREFIX = 'memshop_';

/** Diagnostics channels `memshop:cache:get`, `memshop:cache:invalidation.consume`, …. */
export const DIAGNOSTICS_CHANNEL_PREFIX = 'memshop:cache';

/** The channels the services publish on, for subscribers (test harnesses, tooling). */
export const CACHE_CHANNELS = cacheChannelNames(DIAGNOSTICS_CHANNEL_PREFIX);

/** OpenTelemetry tracer name of the cache's spans. */
export const TRACER_NAME = '@memshop/cache';

/**
 * Broker names: exchange `memshop.invalidation` (the INVALIDATION_EXCHANGE default), queues
 * `memshop.<service>.invalidation.quorum`, their parking queues, and the classic queues of
 * earlier versions the bus retires.
 */
export const BROKER_NAME_PREFIX = 'memshop';

/** The outbox table every service's first migration created. */
export const OUTBOX_TABLE = 'memshop_outbox';
