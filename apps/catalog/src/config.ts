import {
  authEnvShape,
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
  })
  .superRefine(requireOneJwksSource);

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
