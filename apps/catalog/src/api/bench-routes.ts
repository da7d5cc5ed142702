import type { CacheCluster } from '@memshop/cache';
import { BadRequestError, idSchema, NotFoundError, requireAdmin } from '@memshop/service-kit';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { CatalogService } from '../domain/catalog-service';
import type { Product } from '../domain/product';

/**
 * Benchmark-only routes (`npm run bench`, bench/README.md), on only with BENCH_ROUTES=1: the baselines
 * that the cached `GET /products/:id` is compared with. Never set it in production: the bypass
 * header would let any client send every read to Postgres.
 */
export function benchRoutesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['BENCH_ROUTES'] === '1';
}

/**
 * `BENCH_CACHE_LEASES=0` (read only with BENCH_ROUTES=1) runs the cache without leases, plain
 * cache-aside: the bench's cold-start case compares the database's peak load with and without
 * them. Not a config setting: no deployment should ever turn leases off.
 */
export function benchCacheLeases(env: NodeJS.ProcessEnv = process.env): boolean {
  return !(benchRoutesEnabled(env) && env['BENCH_CACHE_LEASES'] === '0');
}

const nodeListSchema = z.object({
  servers: z.array(z.string().regex(/^[^\s,]+:\d{1,5}$/, 'host:port')).min(1),
});

/**
 * `POST /bench/cache/nodes` `{ "servers": ["host:port", ...] }`: sets this process's memcached
 * ring (CacheCluster.setNodes), as a StatefulSet scale would, for the bench's resize case.
 */
function cacheNodeRoutes(cluster: Pick<CacheCluster, 'setNodes'>, router: Router): void {
  // An admin's act: whoever sets the ring decides which memcached answers this process's reads.
  router.post('/bench/cache/nodes', requireAdmin(), (req, res) => {
    const { servers } = nodeListSchema.parse(req.body);
    let change: { added: string[]; removed: string[] };
    try {
      change = cluster.setNodes(servers);
    } catch (err) {
      // Duplicates or a gutter server: the list is refused and the ring stays as it was.
      if (err instanceof TypeError) throw new BadRequestError(err.message);
      throw err;
    }
    res.json({ servers, ...change });
  });
}

/**
 * `X-Cache-Bypass: 1` on `GET /products/:id` asks the data layer to skip the cache (P2's
 * baseline: the same endpoint, Prisma to Postgres on every request). The header is checked
 * first so ordinary requests never pay for the env lookup.
 */
export function cacheBypassRequested(req: Request): boolean {
  return req.headers['x-cache-bypass'] === '1' && benchRoutesEnabled();
}

/**
 * `GET /bench/memory/products/:id`: the same JSON as `GET /products/:id`, from a Map in this
 * process (P1's baseline: Express and JSON serialization with no cache round trip). Each id is
 * loaded once through the service on its first request; later requests never leave the process.
 */
export function benchRoutes(catalog: CatalogService, cluster?: Pick<CacheCluster, 'setNodes'>): Router {
  const router = Router();
  if (cluster) cacheNodeRoutes(cluster, router);
  const products = new Map<number, Product>();
  router.get('/bench/memory/products/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    let product = products.get(id);
    if (!product) {
      const { value } = await catalog.getProduct(id);
      if (!value) throw new NotFoundError(`product ${id} not found`);
      product = value;
      products.set(id, product);
    }
    res.json(product);
  });
  return router;
}
