import { BadRequestError, NotFoundError, ORDER_SERVICE, requireService } from '@memshop/service-kit';
import { Router } from 'express';
import type { CatalogService } from '../domain/catalog-service';
import type { Product, StockItem } from '../domain/product';
import type { StockReservation } from '../domain/stock-reservation';
import {
  confirmReservationSchema,
  releaseStockSchema,
  reservationParamsSchema,
  reservationReferenceSchema,
  reserveStockSchema,
} from './schemas';

/**
 * Stock changes for order-service, each all-or-nothing in one transaction:
 * - `POST /stock/reservations` `{ items: [{ productId, quantity }], reference?, ttlSeconds? }`
 *   takes stock: 200 `{ items: [{ productId, quantity, stock, priceCents, currency }] }` (stock =
 *   what is left; the price read in the transaction that took the stock), 409 with
 *   `details.shortages` when any item lacks stock (nothing is taken), 404 for an unknown product.
 *   With a `reference` (or an `Idempotency-Key` header) the stock is held as a reservation:
 *   the answer adds `reference`, `status` and `expiresAt`; the same reference again answers
 *   from the record without taking stock twice (409 `reservation_released` once it was
 *   released, 422 `reservation_mismatch` for other items). Unconfirmed by `expiresAt`, the
 *   sweeper gives the stock back.
 * - `POST /stock/confirmations` `{ reference }` makes a reservation final: 200 with the
 *   reservation, also when repeated; 409 `reservation_released` when it was released or never
 *   made (the reference is then refused for good).
 * - `POST /stock/releases` `{ reference }` gives a reservation's stock back (idempotent, 200 with
 *   the reservation); `{ items }` adds stock back without a record.
 * - `GET /stock/reservations/:reference`: the reservation, 404 when unknown.
 *
 * Only order-service's service token opens them (a user token is a 403): stock moves only as
 * part of an order, never at a client's word.
 */
export function stockRoutes(catalog: CatalogService): Router {
  const router = Router();
  router.use('/stock', requireService(ORDER_SERVICE));

  router.post('/stock/reservations', async (req, res) => {
    const body = reserveStockSchema.parse(req.body);
    const header = req.get('idempotency-key');
    const reference =
      body.reference ?? (header === undefined ? undefined : parseReference(header, 'Idempotency-Key header'));
    if (reference === undefined) {
      const products = await catalog.reserveStock(body.items);
      res.json({ items: describe(body.items, products) });
      return;
    }
    const { reservation, products } = await catalog.reserveStockFor(reference, body.items, body.ttlSeconds);
    // A replay changed no stock: the stock shown is the current one.
    const current =
      products.length > 0
        ? products
        : (await catalog.getProducts(reservation.items.map((i) => i.productId))).products;
    res.json(describeReservation(reservation, current));
  });

  router.post('/stock/confirmations', async (req, res) => {
    const { reference } = confirmReservationSchema.parse(req.body);
    res.json(await catalog.confirmReservation(reference));
  });

  router.post('/stock/releases', async (req, res) => {
    const body = releaseStockSchema.parse(req.body);
    if (body.reference !== undefined) {
      res.json(await catalog.releaseReservation(body.reference));
      return;
    }
    const items = body.items!;
    const products = await catalog.releaseStock(items);
    res.json({ items: describe(items, products) });
  });

  router.get('/stock/reservations/:reference', async (req, res) => {
    const { reference } = reservationParamsSchema.parse(req.params);
    const reservation = await catalog.findReservation(reference);
    if (!reservation) throw new NotFoundError(`stock reservation ${reference} not found`);
    res.json(reservation);
  });

  return router;
}

function parseReference(value: string, what: string): string {
  const parsed = reservationReferenceSchema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(`${what}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function describe(items: StockItem[], products: Product[]) {
  const byId = new Map(products.map((p) => [p.id, p]));
  return items.map((item) => {
    // adjustStock returns every item's product or throws (unknown id = 404).
    const { stock, priceCents, currency } = byId.get(item.productId)!;
    return { productId: item.productId, quantity: item.quantity, stock, priceCents, currency };
  });
}

/** The reservation with each line's price at reservation time and the stock left now. */
function describeReservation(reservation: StockReservation, products: Product[]) {
  const stockOf = new Map(products.map((p) => [p.id, p.stock]));
  return {
    ...reservation,
    items: reservation.items.map((item) => ({ ...item, stock: stockOf.get(item.productId) ?? 0 })),
  };
}
