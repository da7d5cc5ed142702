import { CacheCluster } from '@memshop/cache';
import {
  authenticate,
  authEnvShape,
  createLogger,
  errorHandler,
  jsonBody,
  parseConfig,
  TokenVerifier,
} from '@memshop/service-kit';
import {
  bearer,
  createAuthKeys,
  startMemcachedCluster,
  type AuthKeys,
  type MemcachedCluster,
} from '@memshop/testing';
import express from 'express';
import { z } from 'zod';
import request from 'supertest';
import { benchCacheLeases, benchRoutes } from '../api/bench-routes';
import type { CatalogService } from '../domain/catalog-service';

describe('bench-only switches', () => {
  it('turns leases off only with BENCH_ROUTES=1 and BENCH_CACHE_LEASES=0', () => {
    expect(benchCacheLeases({})).toBe(true);
    expect(benchCacheLeases({ BENCH_CACHE_LEASES: '0' })).toBe(true);
    expect(benchCacheLeases({ BENCH_ROUTES: '1' })).toBe(true);
    expect(benchCacheLeases({ BENCH_ROUTES: '1', BENCH_CACHE_LEASES: '1' })).toBe(true);
    expect(benchCacheLeases({ BENCH_ROUTES: '1', BENCH_CACHE_LEASES: '0' })).toBe(false);
  });

  describe('POST /bench/cache/nodes on real memcached nodes', () => {
    let memcached: MemcachedCluster;
    let cluster: CacheCluster;
    let app: express.Express;
    let auth: AuthKeys;
    let asAdmin: { authorization: string };

    beforeAll(async () => {
      memcached = await startMemcachedCluster(3);
      cluster = new CacheCluster({ servers: memcached.servers.slice(0, 2), opTimeoutMs: 5_000 });
      auth = await createAuthKeys();
      asAdmin = bearer(await auth.adminToken(1));
      const logger = createLogger({ service: 'catalog', level: 'silent' });
      const verifier = new TokenVerifier(parseConfig(z.object(authEnvShape), auth.envFor('catalog')));
      await verifier.load();
      app = express();
      app.use(authenticate(verifier, logger));
      app.use(jsonBody());
      // The membership route never touches the catalog service.
      app.use(benchRoutes({} as CatalogService, cluster));
      app.use(errorHandler(createLogger({ service: 'catalog', level: 'silent' })));
    });

    afterAll(async () => {
      await cluster?.close();
      await memcached?.stop();
      await auth?.remove();
    });

    it('sets the ring and says which nodes were added and removed', async () => {
      const [a, b, c] = memcached.servers as [string, string, string];
      const res = await request(app)
        .post('/bench/cache/nodes')
        .set(asAdmin)
        .send({ servers: [a, c] })
        .expect(200);
      expect(res.body).toEqual({ servers: [a, c], added: [c], removed: [b] });
      expect(cluster.servers).toEqual([a, c]);
    });

    it("is an admin's act: no token is 401, a user token 403, and the ring stays", async () => {
      const before = [...cluster.servers];
      const [a] = memcached.servers as [string];
      await request(app)
        .post('/bench/cache/nodes')
        .send({ servers: [a] })
        .expect(401);
      const asUser = bearer(await auth.userToken(7));
      await request(app)
        .post('/bench/cache/nodes')
        .set(asUser)
        .send({ servers: [a] })
        .expect(403);
      expect(cluster.servers).toEqual(before);
    });

    it('answers 400 for a list it cannot use, and keeps the ring', async () => {
      const before = [...cluster.servers];
      const [a] = memcached.servers as [string];
      await request(app).post('/bench/cache/nodes').set(asAdmin).send({ servers: [] }).expect(400);
      await request(app)
        .post('/bench/cache/nodes')
        .set(asAdmin)
        .send({ servers: ['no-port'] })
        .expect(400);
      await request(app)
        .post('/bench/cache/nodes')
        .set(asAdmin)
        .send({ servers: [a, a] })
        .expect(400);
      expect(cluster.servers).toEqual(before);
    });
  });
});
