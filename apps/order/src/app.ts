import { createServiceApp, type ServiceAppDeps } from '@memshop/service-kit';
import type { Express } from 'express';
import { orderApiDocument } from './api/openapi';
import { ordersRouter, type OrdersApiDeps } from './api/orders-router';

export type OrderAppDeps = OrdersApiDeps & ServiceAppDeps;

/** The HTTP app; no I/O here, so tests build it around their own clients. */
export function createApp({
  logger,
  metrics,
  healthChecks,
  audit,
  authenticate,
  rateLimits,
  requestDeadlineMs,
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
    requestDeadlineMs,
    routers: [ordersRouter(api)],
  });
}
