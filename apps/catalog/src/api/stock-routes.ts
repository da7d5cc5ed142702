import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import { toHttpError } from './domain-errors';
import { stockItemsSchema } from './schemas';

/**
 * Stock changes for order-service, each all-or-nothing in one transaction:
 * - `POST /stock/reservations` `{ items: [{ productId, quantity }] }` takes stock:
 *   200 `{ items: [{ productId, quantity, stock }] }` (stock = what is left), 409 with
 *   `details.shortages` when any item lacks stock (nothing is taken), 404 for an unknown product.
 * - `POST /stock/releases`, same body, gives stock back (an order that failed after reserving).
 */
export function stockRoutes(catalog: CatalogService): Router {
  const router = Router();

  router.post('/stock/reservations', async (req, res) => {
    const { items } = stockItemsSchema.parse(req.body);
    try {
      const products = await catalog.reserveStock(items);
      res.json({ items: describe(items, products) });
    } catch (err) {
      throw toHttpError(err);
    }
  });

  router.post('/stock/releases', async (req, res) => {
    const { items } = stockItemsSchema.parse(req.body);
    try {
      const products = await catalog.releaseStock(items);
      res.json({ items: describe(items, products) });
    } catch (err) {
      throw toHttpError(err);
    }
  });

  return router;
}

function describe(
  items: Array<{ productId: number; quantity: number }>,
  products: Array<{ id: number; stock: number }>,
) {
  const stockById = new Map(products.map((p) => [p.id, p.stock]));
  return items.map((item) => ({ ...item, stock: stockById.get(item.productId) ?? 0 }));
}
