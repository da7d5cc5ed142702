import { deadlineOf, idSchema, NotFoundError, requireAdmin, setCacheHeader } from '@memshop/service-kit';
import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import { pageQuerySchema, updateCategorySchema } from './schemas';

/** Category pages are public; renaming a category is an operator's (admin role). */
export function categoryRoutes(catalog: CatalogService): Router {
  const router = Router();

  /** `GET /categories/:id/products?offset=0&limit=20` (limit 10, 20, 50 or 100; offset a multiple of it, <= 1000): product summaries, no stock. */
  router.get('/categories/:id/products', async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const { offset, limit } = pageQuerySchema.parse(req.query);
    const { value, cacheStatus } = await catalog.getCategoryProducts(id, offset, limit, {
      deadline: deadlineOf(res),
    });
    setCacheHeader(res, cacheStatus);
    if (!value) throw new NotFoundError(`category ${id} not found`);
    res.json(value);
  });

  router.patch('/categories/:id', requireAdmin(), async (req, res) => {
    const id = idSchema.parse(req.params.id);
    const changes = updateCategorySchema.parse(req.body);
    res.json(await catalog.updateCategory(id, changes));
  });

  return router;
}
