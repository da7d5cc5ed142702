import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from './error-handler';
import { cacheAuditRouter, type CacheAuditRunner } from './cache-audit-router';
import { healthRouter, type HealthOptions } from './health';
import { jsonBody } from './json-body';
import type { ApiDocument } from './openapi/api-document';
import { apiDocsRouter } from './openapi/docs-router';
import { httpMetricsMiddleware, type ServiceMetrics } from './metrics';
import { middlewareChain } from './middleware-chain';
import { mountUnder } from './mount-under';
import { rateLimitRouter, type RateLimitRouterOptions, type RequestRateLimits } from './request-rate-limits';
import { requestDeadline } from './request-deadline';
import { httpTracingMiddleware } from './tracing';
import type { HealthCheck } from './health';

/** What every service's createApp takes besides its own domain: a service adds its services to it. */
export interface ServiceAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  /** /health/ready checks: database (critical), memcached, rabbitmq, and the service's own. */
  healthChecks: Record<string, HealthCheck>;
  /** The cache auditor behind `GET /admin/cache-audit` (what `npm run audit` reads); optional in tests. */
  audit?: CacheAuditRunner;
  /** Verifies bearer tokens (composeService); the routes say who may call them. */
  authenticate: RequestHandler;
  /** The write and uncached-read budgets (composeService). */
  rateLimits: RequestRateLimits;
  /** REQUEST_DEADLINE_MS (composeService); without it requests carry no deadline. */
  requestDeadlineMs?: number;
}

export interface ServiceAppOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  health: HealthOptions;
  /** The service's own routers (or handlers such as `mountUnder`'s), mounted after /health and /metrics. */
  routers: RequestHandler[];
  /** JSON body limit, default '100kb' (larger -> 413). */
  bodyLimit?: string;
  /** The cache auditor: mounts `GET /admin/cache-audit?sample=N` for admins (what `npm run audit` reads). */
  audit?: CacheAuditRunner;
  /** The service's OpenAPI document, served at /openapi.json with a page at /docs. */
  apiDocument?: ApiDocument;
  /**
   * Verifies a request's bearer token before the service's routers (composeService's
   * `authenticate`); health, metrics and the API document stay open to probes and scrapers.
   */
  authenticate?: RequestHandler;
  /** Rate limits on writes and on the service's uncached reads (composeService builds `limits`). */
  rateLimit?: RateLimitRouterOptions;
  /**
   * Each request's budget from arrival, ms (REQUEST_DEADLINE_MS): `deadlineOf(res)` is what a
   * route passes to its cache reads. Default: no deadline.
   */
  requestDeadlineMs?: number;
}

/**
 * The Express app every service shares: metrics, the per-client rate limit, tracing, /health
 * (status only: the detail and /metrics are on the admin port, admin-app.ts), /openapi.json and
 * /docs, bearer-token authentication, the per-subject rate limit, JSON body limit, the admin-only
 * cache audit, the service's routers, then 404 and the error handler. No I/O: tests build it freely.
 */
export function createServiceApp({
  logger,
  metrics,
  health,
  routers,
  bodyLimit,
  audit,
  apiDocument,
  authenticate,
  rateLimit,
  requestDeadlineMs,
}: ServiceAppOptions): Express {
  const limits = rateLimit && {
    ...rateLimit,
    uncachedReads: [...(rateLimit.uncachedReads ?? []), ...(audit ? ['/admin/cache-audit'] : [])],
  };
  const handlers: RequestHandler[] = [httpMetricsMiddleware(metrics)];
  if (requestDeadlineMs !== undefined) handlers.push(requestDeadline(requestDeadlineMs));
  // The client budget is spent before any token is verified: a signature check costs more than
  // a counter, so a flood of bad tokens from one address is turned away by its count alone.
  if (limits) handlers.push(rateLimitRouter(limits, 'client'));
  handlers.push(httpTracingMiddleware(), mountUnder(['/health/'], healthRouter(health)));
  if (apiDocument) handlers.push(mountUnder(['/openapi.json', '/docs'], apiDocsRouter(apiDocument)));
  if (authenticate) handlers.push(authenticate);
  // The subject budget after authenticate, so it counts only the principal it verified.
  if (limits) handlers.push(rateLimitRouter(limits, 'subject'));
  // After the limits, so a request over its budget costs no parsing.
  handlers.push(jsonBody(bodyLimit));
  if (audit) handlers.push(mountUnder(['/admin/cache-audit'], cacheAuditRouter(audit)));
  handlers.push(...routers);

  const app = express();
  app.disable('x-powered-by');
  // One layer for all of it: every request walks these, and Router's dispatch costs more per
  // layer than most of these middleware do themselves (middleware-chain.ts).
  app.use(middlewareChain(handlers));
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
