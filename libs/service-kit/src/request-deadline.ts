import type { RequestHandler, Response } from 'express';

/**
 * Stamps each request with its deadline: arrival plus `budgetMs` (REQUEST_DEADLINE_MS). A number
 * on Date.now()'s clock, not an AbortSignal: a signal arms a timer per request, and most
 * requests are cache hits that never look at their deadline. What waits (a lease held by another
 * instance, a call to a neighbour service) stops waiting by it.
 */
export function requestDeadline(budgetMs: number): RequestHandler {
  return (_req, res, next) => {
    res.locals.deadlineAt = Date.now() + budgetMs;
    next();
  };
}

/** The request's deadline (epoch ms); undefined on an app built without the middleware. */
export function deadlineOf(res: Response): number | undefined {
  const at: unknown = res.locals.deadlineAt;
  return typeof at === 'number' ? at : undefined;
}

/** A read's share of its request's budget, passed down to the cache (GetOrLoadOptions.deadline). */
export interface ReadDeadline {
  /** Epoch ms (Date.now()'s clock) by which a wait on another instance's load gives up. */
  deadline?: number | undefined;
}
