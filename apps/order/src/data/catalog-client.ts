import { z } from 'zod';
import { InsufficientStockError, UnknownProductsError, DependencyUnavailableError } from '../domain/errors';
import type { OrderLine, ProductSummary, StockReservation } from '../domain/order';
import type { ServiceClient, ServiceResponse } from './service-client';

const productSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
});

/** `{ products, missing }`; catalog answers 404 when none of the ids exists. */
const productBatchSchema = z.object({ products: z.array(productSchema) }).transform((b) => b.products);

/**
 * A reservation as catalog answers it: `{ reference, status, items: [{ productId, quantity,
 * priceCents, currency }] }`, each price read in the transaction that took the stock.
 */
const reservationSchema = z.object({
  status: z.enum(['active', 'confirmed', 'released']),
  items: z.array(
    z.object({
      productId: z.number().int(),
      quantity: z.number().int(),
      priceCents: z.number().int(),
      currency: z.string(),
    }),
  ),
});

const errorBodySchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    details: z.unknown().optional(),
  }),
});

/** GET /products?ids= takes at most this many ids per call (catalog's limit). */
export const CATALOG_BATCH_MAX = 100;

/** catalog-service's HTTP API, as much of it as an order needs. */
export class CatalogClient {
  constructor(private readonly http: ServiceClient) {}

  /**
   * Products by id through catalog's batch read (one multi-get there), in chunks of
   * CATALOG_BATCH_MAX. Ids catalog does not return are unknown products.
   */
  async getProducts(ids: number[]): Promise<Map<number, ProductSummary | null>> {
    const found = new Map<number, ProductSummary | null>(ids.map((id) => [id, null]));
    for (let i = 0; i < ids.length; i += CATALOG_BATCH_MAX) {
      const chunk = ids.slice(i, i + CATALOG_BATCH_MAX);
      const products =
        (await this.http.getJson(`/products?ids=${chunk.join(',')}`, productBatchSchema)) ?? [];
      for (const p of products) {
        if (found.has(p.id))
          found.set(p.id, { id: p.id, name: p.name, priceCents: p.priceCents, currency: p.currency });
      }
    }
    return found;
  }

  /**
   * POST /stock/reservations with the order's reference: catalog takes every line's stock or
   * none (409 insufficient stock). A reference catalog already released answers `released`.
   */
  async reserveStock(lines: OrderLine[], reference: string): Promise<StockReservation> {
    const path = '/stock/reservations';
    const items = lines.map(({ productId, quantity }) => ({ productId, quantity }));
    const response = await this.http.postJson(path, { reference, items }, { 'idempotency-key': reference });
    const body = errorBodySchema.safeParse(response.body);
    if (response.status === 409 && body.success && body.data.error.code === 'reservation_released') {
      return { status: 'released', items: [] };
    }
    if (response.status === 409) {
      throw new InsufficientStockError(
        body.success ? body.data.error.details : undefined,
        body.success && body.data.error.message ? body.data.error.message : undefined,
      );
    }
    if (response.status === 404) throw new UnknownProductsError(lines.map((l) => l.productId));
    return this.#reservation('POST', path, response);
  }

  /** POST /stock/confirmations: `confirmed`, or `released` when catalog no longer holds the stock. */
  async confirmReservation(reference: string): Promise<StockReservation> {
    const path = '/stock/confirmations';
    const response = await this.http.postJson(path, { reference });
    if (response.status === 409) return { status: 'released', items: [] };
    return this.#reservation('POST', path, response);
  }

  /** POST /stock/releases by reference: idempotent, also for a reference catalog never saw. */
  async releaseReservation(reference: string): Promise<void> {
    const path = '/stock/releases';
    const response = await this.http.postJson(path, { reference });
    this.#reservation('POST', path, response);
  }

  #reservation(method: string, path: string, response: ServiceResponse): StockReservation {
    if (response.status !== 200) {
      throw new DependencyUnavailableError(
        'catalog',
        `catalog answered ${method} ${path} with ${response.status}`,
      );
    }
    return this.http.parse(path, response.body, reservationSchema);
  }
}
