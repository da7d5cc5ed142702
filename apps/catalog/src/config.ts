import {
  authEnvShape,
  booleanEnv,
  keySpaceListEnv,
  requireOneJwksSource,
  serviceJwksEnvShape,
  portSchema,
  serviceEnvShape,
} from '@memshop/service-kit';
import { z } from 'zod';

/** Every env var catalog-service reads (docs/architecture.md), validated at start. */
export const catalogConfigSchema = z
  .object({
    ...serviceEnvShape,
    ...authEnvShape,
    ...serviceJwksEnvShape,
    PORT: portSchema(3001),
    /** /metrics and the detailed readiness (service-kit admin-app.ts); never published. */
    ADMIN_PORT: portSchema(9101),
    /** Write-back window of the product view counters (ProductViewFlusher). */
    PRODUCT_VIEWS_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
    /** Expiry of a stock reservation that names none; unconfirmed after it, the sweeper gives the stock back. */
    STOCK_RESERVATION_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** How often the sweeper looks for expired reservations (the longest an expired one keeps its stock). */
    STOCK_RESERVATION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(5000),
    /**
     * Hot products held in process in front of memcached (the cache lib's NearCache), kept
     * coherent by a per-instance queue on the invalidation exchange. Off by default: it costs
     * each instance a broker connection and memory, and pays off only under skewed read load.
     */
    CACHE_NEAR_ENABLED: booleanEnv(false),
    /**
     * Product writes announce their event at commit (`pg_notify` in the outbox INSERT) and a
     * worker thread publishes it (OutboxRelayThread). Off: the writer publishes after reading its
     * COMMIT's reply, as every other write does. Needs a session connection to Postgres for
     * LISTEN (not a pooler in transaction mode).
     */
    OUTBOX_PUBLISH_AT_COMMIT: booleanEnv(true),
    /**
     * Key spaces in which other services keep copies of products in memcached, keyed by product
     * id (order-service's `order:product:v1`). A product write deletes them once this service's
     * own entry holds the new row, before it answers (DownstreamCopies); the product's event
     * purges them too. Empty: the event alone.
     */
    INVALIDATION_PRODUCT_COPIES: keySpaceListEnv('order:product:v1'),
    /** Bytes the near cache may hold per instance (16 MiB). */
    CACHE_NEAR_MAX_BYTES: z.coerce.number().int().min(1024).max(4_294_967_296).default(16_777_216),
    /** Longest a product is held in process (5 s: the gap rule's bound for a missed event). */
    CACHE_NEAR_TTL_MS: z.coerce.number().int().min(1).max(300_000).default(5000),
    /** Reads per second of one product before it is held in process; 0 holds every product read. */
    CACHE_NEAR_HOT_READS_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(10),
  })
  .superRefine(requireOneJwksSource);

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
