import { Router, type Request, type RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  /** Pass this to `createPromCacheMetrics(registry)` so the cache's metrics share the endpoint. */
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Requests answered 429 (request-rate-limits.ts), by the budget that ran out. */
  rateLimitRejections: Counter<'scope'>;
}

/**
 * One registry per service instance (never prom-client's global one, so tests can build
 * several apps in one process), labelled `service=<name>`, with Node's default metrics.
 */
export function createServiceMetrics(
  service: string,
  opts: { defaultMetrics?: boolean } = {},
): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const rateLimitRejections = new Counter({
    name: 'memshop_rate_limit_rejections_total',
    help: 'Requests answered 429 by the rate limits, by the budget that ran out (client, subject)',
    labelNames: ['scope'] as const,
    registers: [registry],
  });
  return { registry, httpRequestDuration, rateLimitRejections };
}

/** The route pattern (`/products/:id`), never the raw path, so label cardinality stays bounded. */
export function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  return 'unmatched';
}

export function httpMetricsMiddleware(metrics: ServiceMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.once('finish', () => {
      end({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) });
    });
    next();
  };
}

/** `GET /metrics` in the Prometheus text format. */
export function metricsRouter(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
