import type { RequestHandler } from 'express';

/**
 * Runs `handler` (a Router) only for paths under one of `prefixes`, compared as Express compares
 * route paths (case-insensitively); other requests skip it with one regex test instead of a
 * pass through the Router's layers. For the open routers (health, API docs, audit) that every
 * request of the service's own API would otherwise walk through first.
 */
export function mountUnder(prefixes: readonly string[], handler: RequestHandler): RequestHandler {
  const escaped = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const under = new RegExp(`^(?:${escaped.join('|')})`, 'i');
  return (req, res, next) => {
    if (!under.test(req.path)) {
      next();
      return undefined;
    }
    return handler(req, res, next);
  };
}
