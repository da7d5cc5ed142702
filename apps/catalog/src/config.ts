import { portSchema, serviceEnvShape } from '@memshop/service-kit';
import { z } from 'zod';

/** Every env var catalog-service reads (docs/architecture.md), validated at start. */
export const catalogConfigSchema = z.object({
  ...serviceEnvShape,
  PORT: portSchema(3001),
  /** Write-back window of the product view counters (ProductViewFlusher). */
  PRODUCT_VIEWS_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
});

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
