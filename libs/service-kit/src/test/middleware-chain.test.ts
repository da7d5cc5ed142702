import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { middlewareChain } from '../middleware-chain';

/** An app with the chain as its first layer, then a route and an error handler after it. */
function appWith(handlers: RequestHandler[]) {
  const app = express();
  app.use(middlewareChain(handlers));
  app.get('/after', (_req, res) => {
    res.json({ reached: 'after', seen: res.locals.seen ?? [] });
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
  };
  app.use(onError);
  return app;
}

const mark =
  (name: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.seen = [...((res.locals.seen as string[] | undefined) ?? []), name];
    next();
  };

describe('middlewareChain', () => {
  it('runs its handlers in order, then the app goes on after it', async () => {
    const app = appWith([mark('a'), mark('b'), mark('c')]);
    await request(app)
      .get('/after')
      .expect(200, { reached: 'after', seen: ['a', 'b', 'c'] });
  });

  it('stops where a handler answers', async () => {
    const answer: RequestHandler = (_req, res) => {
      res.json({ reached: 'chain', seen: res.locals.seen });
    };
    const app = appWith([mark('a'), answer, mark('never')]);
    await request(app)
      .get('/after')
      .expect(200, { reached: 'chain', seen: ['a'] });
  });

  it('hands a throw, a rejected promise or next(err) to the app error handler, skipping the rest', async () => {
    const rest = jest.fn<void, []>();
    const after: RequestHandler = (_req, _res, next) => {
      rest();
      next();
    };
    const thrower: RequestHandler = () => {
      throw new Error('thrown');
    };
    const rejecter: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };
    const passer: RequestHandler = (_req, _res, next) => next(new Error('passed'));
    for (const [handler, message] of [
      [thrower, 'thrown'],
      [rejecter, 'rejected'],
      [passer, 'passed'],
    ] as const) {
      await request(appWith([handler, after]))
        .get('/after')
        .expect(500, { error: message });
    }
    expect(rest).not.toHaveBeenCalled();
  });

  it("goes on after next('route') or a thrown 'route', as past a middleware layer", async () => {
    const skip: RequestHandler = (_req, _res, next) => next('route');
    const throwRoute: RequestHandler = () => {
      throw 'route';
    };
    await request(appWith([mark('a'), skip, throwRoute, mark('b')]))
      .get('/after')
      .expect(200, { reached: 'after', seen: ['a', 'b'] });
  });

  it('fails the request on a falsy rejection', async () => {
    const rejectFalse: RequestHandler = () => Promise.reject(false);
    await request(appWith([rejectFalse]))
      .get('/after')
      .expect(500, { error: 'Rejected promise' });
  });

  it("leaves the app's Router on next('router'), as a layer of its own would", async () => {
    const leave: RequestHandler = (_req, _res, next) => next('router');
    await request(appWith([leave, mark('never')]))
      .get('/after')
      .expect(404);
  });

  it('runs a Router given as a handler, which goes on to the next handler when nothing in it matches', async () => {
    const router = Router();
    router.get('/inside', (_req, res) => {
      res.json({ reached: 'router' });
    });
    const app = appWith([mark('a'), router, mark('b')]);
    await request(app).get('/inside').expect(200, { reached: 'router' });
    await request(app)
      .get('/after')
      .expect(200, { reached: 'after', seen: ['a', 'b'] });
  });
});
