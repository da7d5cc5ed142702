import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import type { Product, StockItem } from '../domain/product';
import { toHttpError } from './domain-errors';
import { stockItemsSchema } from './schemas';

/**
 * Stock changes for order-service, each all-or-nothing in one transaction:
 * - `POST /stock/reservations` `{ items: [{ productId, quantity }] }` takes stock:
 *   200 `{ items: [{ productId, quantity, stock, priceCents, currency }] }` (stock = what is
 *   left; the price read in the transaction that took the stock, so an order records the price
 *   of its commit, not a cached one), 409 with `details.shortages` when any item lacks stock
 *   (nothing is taken), 404 for an unknown product.
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

function describe(items: StockItem[], products: Product[]) {
  const byId = new Map(products.map((p) => [p.id, p]));
  return items.map((item) => {
    // adjustStock returns every item's product or throws (unknown id = 404).
    const { stock, priceCents, currency } = byId.get(item.productId)!;
    return { productId: item.productId, quantity: item.quantity, stock, priceCents, currency };
  });
}
