import { CacheCluster } from '@memshop/cache';
import { createLogger, errorHandler, jsonBody } from '@memshop/service-kit';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import express from 'express';
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

    beforeAll(async () => {
      memcached = await startMemcachedCluster(3);
      cluster = new CacheCluster({ servers: memcached.servers.slice(0, 2), opTimeoutMs: 5_000 });
      app = express();
      app.use(jsonBody());
      // The membership route never touches the catalog service.
      app.use(benchRoutes({} as CatalogService, cluster));
      app.use(errorHandler(createLogger({ service: 'catalog', level: 'silent' })));
    });

    afterAll(async () => {
      await cluster?.close();
      await memcached?.stop();
    });

    it('sets the ring and says which nodes were added and removed', async () => {
      const [a, b, c] = memcached.servers as [string, string, string];
      const res = await request(app)
        .post('/bench/cache/nodes')
        .send({ servers: [a, c] })
        .expect(200);
      expect(res.body).toEqual({ servers: [a, c], added: [c], removed: [b] });
      expect(cluster.servers).toEqual([a, c]);
    });

    it('answers 400 for a list it cannot use, and keeps the ring', async () => {
      const before = [...cluster.servers];
      const [a] = memcached.servers as [string];
      await request(app).post('/bench/cache/nodes').send({ servers: [] }).expect(400);
      await request(app)
        .post('/bench/cache/nodes')
        .send({ servers: ['no-port'] })
        .expect(400);
      await request(app)
        .post('/bench/cache/nodes')
        .send({ servers: [a, a] })
        .expect(400);
      expect(cluster.servers).toEqual(before);
    });
  });
});
