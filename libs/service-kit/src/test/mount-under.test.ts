import express, { Router } from 'express';
import request from 'supertest';
import { mountUnder } from '../mount-under';

function appWith(prefixes: string[]) {
  let entered = 0;
  const router = Router();
  router.use((_req, _res, next) => {
    entered += 1;
    next();
  });
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'up' });
  });
  const app = express();
  app.use(mountUnder(prefixes, router));
  app.get('/products/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  return { app, entered: () => entered };
}

describe('mountUnder', () => {
  it('passes requests under a prefix to the router, matching case as Express does', async () => {
    const { app, entered } = appWith(['/health/']);
    await request(app).get('/health/live').expect(200, { status: 'up' });
    await request(app).get('/HEALTH/live').expect(200, { status: 'up' });
    expect(entered()).toBe(2);
  });

  it('lets every other request skip the router', async () => {
    const { app, entered } = appWith(['/health/', '/docs.json']);
    await request(app).get('/products/7').expect(200, { id: '7' });
    await request(app).get('/docsXjson').expect(404);
    expect(entered()).toBe(0);
  });
});
