import {
  createServiceApp,
  type CacheAuditRunner,
  type HealthCheck,
  type Logger,
  type RequestRateLimits,
  type ServiceMetrics,
} from '@memshop/service-kit';
import type { Express, RequestHandler } from 'express';
import { orderApiDocument } from './api/openapi';
import { ordersRouter, type OrdersApiDeps } from './api/orders-router';

export interface OrderAppDeps extends OrdersApiDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  /** /health/ready checks: database (critical), memcached, rabbitmq, catalog, user. */
  healthChecks: Record<string, HealthCheck>;
  /** The cache auditor behind `GET /admin/cache-audit` (what `npm run audit` reads); optional in tests. */
  audit?: CacheAuditRunner;
  /** Verifies bearer tokens (composeService); the routes say who may call them. */
  authenticate: RequestHandler;
  /** The write and uncached-read budgets (composeService). */
  rateLimits: RequestRateLimits;
}

/** The HTTP app; no I/O here, so tests build it around their own clients. */
export function createApp({
  logger,
  metrics,
  healthChecks,
  audit,
  authenticate,
  rateLimits,
  ...api
}: OrderAppDeps): Express {
  return createServiceApp({
    logger,
    metrics,
    health: { checks: healthChecks },
    audit,
    rateLimit: { limits: rateLimits },
    apiDocument: orderApiDocument(),
    authenticate,
    routers: [ordersRouter(api)],
  });
}
