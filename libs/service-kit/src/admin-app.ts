import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from './error-handler';
import { healthRouter, type HealthOptions } from './health';
import { metricsRouter, type ServiceMetrics } from './metrics';

export interface AdminAppOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  /** The same checks as the public /health/ready, answered here with their detail. */
  health: HealthOptions;
}

/**
 * The app on the admin port (ADMIN_PORT): `GET /metrics` and `GET /health/ready` with every
 * check's detail (memcached host:port, queue names, error messages), plus `/health/live`.
 * It lives on its own port, not behind a credential, because Prometheus and operators reach it
 * over the cluster network while the public port is what an ingress publishes: a NetworkPolicy
 * or a loopback bind decides who reaches it, and the public port can carry nothing of it by
 * mistake. Its requests are left out of the HTTP metrics so scrapes do not count themselves.
 */
export function createAdminApp({ logger, metrics, health }: AdminAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter({ ...health, body: 'checks' }));
  app.use(metricsRouter(metrics.registry));
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
