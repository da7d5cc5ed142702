import { createServiceApp, type ServiceAppDeps } from '@memshop/service-kit';
import type { Express } from 'express';
import { userApiDocument } from './api/openapi';
import { userRoutes } from './api/user-routes';
import type { UserService } from './domain/user-service';

export interface UserAppDeps extends ServiceAppDeps {
  users: UserService;
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
  requestDeadlineMs,
}: UserAppDeps): Express {
  return createServiceApp({
    logger,
    metrics,
    health: { checks: healthChecks },
    audit,
    rateLimit: { limits: rateLimits },
    apiDocument: userApiDocument(),
    authenticate,
    requestDeadlineMs,
    routers: [userRoutes(users)],
  });
}
