import {
  authEnvShape,
  booleanEnv,
  requireOneJwksSource,
  serviceTokenKeyEnvShape,
  httpUrlSchema,
  portSchema,
  serviceEnvShape,
} from '@memshop/service-kit';
import { z } from 'zod';

/**
 * Every env var order-service reads (docs/architecture.md), validated once at start.
 * CATALOG_URL and USER_URL are where the products and users it checks and shows live.
 */
export const orderConfigSchema = z
  .object({
    ...serviceEnvShape,
    ...authEnvShape,
    ...serviceTokenKeyEnvShape,
    PORT: portSchema(3003),
    /** /metrics and the detailed readiness (service-kit admin-app.ts); never published. */
    ADMIN_PORT: portSchema(9103),
    CATALOG_URL: httpUrlSchema,
    USER_URL: httpUrlSchema,
    /**
     * Per call to catalog or user. 2 s: far above their cached p99 (a few ms), short enough that a
     * hung dependency turns into a 503 before the client's own timeout.
     */
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    /**
     * Orders placed at once by this instance; more wait their turn in memory. Below the database
     * pool (10), so a burst queues here instead of timing out on a pooled connection (a 503), and
     * the settler and reads keep connections of their own.
     */
    ORDER_PLACEMENT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
    /** How often the settler looks for orders a request left pending (and failed ones whose stock is still held). */
    ORDER_SETTLE_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
    /**
     * How long a new order is left to its own request before the settler may take it over. Unset:
     * three upstream timeouts (the request's reservation and confirmation calls, and a margin).
     */
    ORDER_SETTLE_DELAY_MS: z.coerce.number().int().min(0).max(600_000).optional(),
    /**
     * Each instance also hears catalog's and user's events on a queue of its own and runs their
     * handler (floor, purges) at once (events/early-purge-feed.ts); the durable queue's delivery
     * runs it again either way. Off: one broker connection and queue fewer per instance, copies
     * purged about a millisecond later (the quorum queue's log write).
     */
    INVALIDATION_EARLY_PURGE: booleanEnv(true),
  })
  .superRefine(requireOneJwksSource);

export type OrderConfig = z.infer<typeof orderConfigSchema>;
