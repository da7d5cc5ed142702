import type { NextFunction, RequestHandler } from 'express';

/**
 * Runs `handlers` in order as one Express middleware, with a Router middleware layer's contract:
 * a handler's throw or rejected promise goes to `next(err)`; `next(err)` or `next('router')`
 * leaves the chain for the app's Router to take from there; `next('route')` goes on, as it does
 * past a middleware layer. Request handlers only: an error handler (four arguments) goes after it.
 *
 * Why not one `app.use` each: Router 2 dispatches every layer with a path match, a params object
 * and a callback of its own, and every request walks every root middleware. Folding the kit's ten
 * and the service's routers into one layer took a cache hit from about 43 to 34 KB allocated
 * (sampled under the bench's P1 load), and a third of what a hit allocates outlives a scavenge
 * there, so less of it also means fewer full GCs. Not compose-middleware: it does not forward a
 * rejected promise, which Express 5 middleware may return.
 */
export function middlewareChain(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, leave) => {
    let index = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err && err !== 'route') {
        leave(err);
        return;
      }
      const handler = handlers[index++];
      if (!handler) {
        leave();
        return;
      }
      // As Router's Layer does: a throw or rejection is the handler's next(err), so a thrown
      // 'route' goes on and a falsy rejection still fails the request.
      try {
        const returned: unknown = handler(req, res, next);
        if (isThenable(returned)) {
          returned.then(undefined, (rejection: unknown) => next(rejection || new Error('Rejected promise')));
        }
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
