import { cacheBypassRequested } from './bench-routes';
import {
  allow,
  combineCacheStatus,
  deadlineOf,
  idSchema,
  isAdmin,
  isService,
  NotFoundError,
  ORDER_SERVICE,
  requireAdmin,
  sendJsonBytes,
  setCacheHeader,
} from '@memshop/service-kit';
import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import { createProductSchema, idsQuerySchema, updateProductSchema } from './schemas';

/** Reads are public; creating, changing and deleting products is an operator's (admin role). */
export function productRoutes(catalog: CatalogService): Router {
  const router = Router();
  const admin = requireAdmin();

  /**
   * `GET /products?ids=1,2,3`: one cache multi-get, one database query for the misses.
   * `{ products: [...], missing: [ids not found] }`; 404 only when none exists.
   */
  router.get('/products', async (req, res) => {
    const { ids } = idsQuerySchema.parse(req.query);
    const { products, missing, statuses } = await catalog.getProducts(ids, { deadline: deadlineOf(res) });
    setCacheHeader(res, combineCacheStatus(statuses));
    if (products.length === 0) throw new NotFoundError(`no product found for ids ${ids.join(',')}`);
    res.json({ products, missing });
  });

  /**
   * `GET /admin/source/products?ids=1,2,3`: the same batch from the database, never the cache, for
   * order-service (its staleness auditor, and refills below a version floor, which catalog's cache
   * may not hold yet) or an admin only, since every call goes to Postgres.
   */
  router.get('/admin/source/products', allow(isService(ORDER_SERVICE), isAdmin), async (req, res) => {
    const { ids } = idsQuerySchema.parse(req.query);
    res.json(await catalog.getProductsFromSource(ids));
  });

  /** A hit sends the cached JSON bytes as stored (no parse, no stringify). */
  router.get('/products/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    if (cacheBypassRequested(req)) {
      const { value, cacheStatus } = await catalog.getProduct(id, { bypassCache: true });
      setCacheHeader(res, cacheStatus);
      if (!value) throw new NotFoundError(`product ${id} not found`);
      res.json(value);
      return;
    }
    const { json, cacheStatus } = await catalog.getProductJson(id, { deadline: deadlineOf(res) });
    setCacheHeader(res, cacheStatus);
    if (!json) throw new NotFoundError(`product ${id} not found`);
    sendJsonBytes(res, json);
  });

  router.post('/products', admin, async (req, res) => {
    const input = createProductSchema.parse(req.body);
    const product = await catalog.createProduct(input);
    res.status(201).location(`/products/${product.id}`).json(product);
  });

  router.patch('/products/:id', admin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const changes = updateProductSchema.parse(req.body);
    res.json(await catalog.updateProduct(id, changes));
  });

  router.delete('/products/:id', admin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    await catalog.deleteProduct(id);
    res.status(204).end();
  });

  return router;
}
