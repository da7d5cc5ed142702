import {
  createServiceApp,
  type CacheAuditRunner,
  type HealthCheck,
  type Logger,
  type RequestRateLimits,
  type ServiceMetrics,
} from '@memshop/service-kit';
import type { Express, RequestHandler } from 'express';
import { userApiDocument } from './api/openapi';
import { userRoutes } from './api/user-routes';
import type { UserService } from './domain/user-service';

export interface UserAppDeps {
  users: UserService;
  logger: Logger;
  metrics: ServiceMetrics;
  /** /health/ready checks: database (critical), memcached, rabbitmq. */
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
  users,
  logger,
  metrics,
  healthChecks,
  audit,
  authenticate,
  rateLimits,
}: UserAppDeps): Express {
  return createServiceApp({
    logger,
    metrics,
    health: { checks: healthChecks },
    audit,
    rateLimit: { limits: rateLimits },
    apiDocument: userApiDocument(),
    authenticate,
    routers: [userRoutes(users)],
  });
}
