import { cacheBypassRequested } from './bench-routes';
import {
  combineCacheStatus,
  idSchema,
  NotFoundError,
  requireAdmin,
  setCacheHeader,
} from '@memshop/service-kit';
import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import { toHttpError } from './domain-errors';
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
    const { products, missing, statuses } = await catalog.getProducts(ids);
    setCacheHeader(res, combineCacheStatus(statuses));
    if (products.length === 0) throw new NotFoundError(`no product found for ids ${ids.join(',')}`);
    res.json({ products, missing });
  });

  router.get('/products/:id', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const { value, cacheStatus } = await catalog.getProduct(id, { bypassCache: cacheBypassRequested(req) });
    setCacheHeader(res, cacheStatus);
    if (!value) throw new NotFoundError(`product ${id} not found`);
    res.json(value);
  });

  router.post('/products', admin, async (req, res) => {
    const input = createProductSchema.parse(req.body);
    try {
      const product = await catalog.createProduct(input);
      res.status(201).location(`/products/${product.id}`).json(product);
    } catch (err) {
      throw toHttpError(err, { categoryInBody: true });
    }
  });

  router.patch('/products/:id', admin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const changes = updateProductSchema.parse(req.body);
    try {
      res.json(await catalog.updateProduct(id, changes));
    } catch (err) {
      throw toHttpError(err, { categoryInBody: true });
    }
  });

  router.delete('/products/:id', admin, async (req, res) => {
    const id = idSchema.parse(req.params.id);
    try {
      await catalog.deleteProduct(id);
      res.status(204).end();
    } catch (err) {
      throw toHttpError(err);
    }
  });

  return router;
}
