import { createServiceApp, mountUnder, type ServiceAppDeps } from '@memshop/service-kit';
import type { CacheCluster } from '@memshop/cache';
import type { Express } from 'express';
import { catalogApiDocument } from './api/openapi';
import { benchRoutes, benchRoutesEnabled } from './api/bench-routes';
import { categoryRoutes } from './api/category-routes';
import { productRoutes } from './api/product-routes';
import { stockRoutes } from './api/stock-routes';
import { CATALOG_RATE_LIMITS } from './api/rate-limited-routes';
import type { CatalogService } from './domain/catalog-service';

export interface CatalogAppDeps extends ServiceAppDeps {
  catalog: CatalogService;
  /** The memcached ring, for the bench-only membership route (BENCH_ROUTES=1). */
  cacheCluster?: Pick<CacheCluster, 'setNodes'>;
}

/** The HTTP app; no I/O here, so tests build it around their own clients. */
export function createApp({
  catalog,
  logger,
  metrics,
  healthChecks,
  audit,
  authenticate,
  rateLimits,
  requestDeadlineMs,
  cacheCluster,
}: CatalogAppDeps): Express {
  return createServiceApp({
    logger,
    metrics,
    health: { checks: healthChecks },
    audit,
    rateLimit: { limits: rateLimits, ...CATALOG_RATE_LIMITS },
    apiDocument: catalogApiDocument(),
    authenticate,
    requestDeadlineMs,
    routers: [
      // Under its prefix, so the bench's own routes cost the API's requests one regex test.
      ...(benchRoutesEnabled() ? [mountUnder(['/bench/'], benchRoutes(catalog, cacheCluster))] : []),
      productRoutes(catalog),
      categoryRoutes(catalog),
      stockRoutes(catalog),
    ],
  });
}
