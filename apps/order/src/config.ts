import { httpUrlSchema, portSchema, serviceEnvShape } from '@memshop/service-kit';
import { z } from 'zod';

/**
 * Every env var order-service reads (docs/architecture.md), validated once at start.
 * CATALOG_URL and USER_URL are where the products and users it checks and shows live.
 */
export const orderConfigSchema = z.object({
  ...serviceEnvShape,
  PORT: portSchema(3003),
  CATALOG_URL: httpUrlSchema,
  USER_URL: httpUrlSchema,
  /**
   * Per call to catalog or user. 2 s: far above their cached p99 (a few ms), short enough that a
   * hung dependency turns into a 503 before the client's own timeout.
   */
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
});

export type OrderConfig = z.infer<typeof orderConfigSchema>;
