import { z } from 'zod';
import { InsufficientStockError, UnknownProductsError, DependencyUnavailableError } from '../domain/errors';
import type { OrderLine, ProductSummary, StockReservation } from '../domain/order';
import type { ServiceClient } from './service-client';

const productSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
});

/** `{ products, missing }`; catalog answers 404 when none of the ids exists. */
const productBatchSchema = z.object({ products: z.array(productSchema) }).transform((b) => b.products);

/**
 * `{ items: [{ productId, quantity, stock, priceCents, currency }] }`: catalog reads the price in
 * the transaction that takes the stock. Both are optional so an older catalog (without them)
 * still works; the order is then priced from order-service's cached copy.
 */
const reservationSchema = z.object({
  items: z.array(
    z.object({
      productId: z.number().int(),
      quantity: z.number().int(),
      priceCents: z.number().int().optional(),
      currency: z.string().optional(),
    }),
  ),
});

const errorBodySchema = z.object({
  error: z.object({ message: z.string().optional(), details: z.unknown().optional() }),
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
   * POST /stock/reservations: catalog takes every line's stock or none (409). The reference
   * travels as an Idempotency-Key header for logs and a catalog that deduplicates on it.
   */
  async reserveStock(lines: OrderLine[], reference: string): Promise<StockReservation> {
    const path = '/stock/reservations';
    const items = lines.map(({ productId, quantity }) => ({ productId, quantity }));
    const response = await this.http.postJson(path, { items }, { 'idempotency-key': reference });
    if (response.status === 409) {
      const body = errorBodySchema.safeParse(response.body);
      throw new InsufficientStockError(
        body.success ? body.data.error.details : undefined,
        body.success && body.data.error.message ? body.data.error.message : undefined,
      );
    }
    if (response.status === 404) throw new UnknownProductsError(lines.map((l) => l.productId));
    if (response.status < 200 || response.status >= 300) {
      throw new DependencyUnavailableError(
        'catalog',
        `catalog answered POST ${path} with ${response.status}`,
      );
    }
    const body = this.http.parse(path, response.body, reservationSchema);
    const priceOf = new Map(body.items.map((item) => [item.productId, item]));
    return {
      items: items.map((line) => {
        const reserved = priceOf.get(line.productId);
        if (reserved?.priceCents === undefined) return line;
        return reserved.currency === undefined
          ? { ...line, priceCents: reserved.priceCents }
          : { ...line, priceCents: reserved.priceCents, currency: reserved.currency };
      }),
    };
  }

  /** Gives reserved stock back (the order could not be committed). */
  async releaseStock(reservation: StockReservation, reference: string): Promise<void> {
    const path = '/stock/releases';
    const response = await this.http.postJson(
      path,
      { items: reservation.items.map(({ productId, quantity }) => ({ productId, quantity })) },
      { 'idempotency-key': `release-${reference}` },
    );
    if (response.status < 200 || response.status >= 300) {
      throw new DependencyUnavailableError(
        'catalog',
        `catalog answered POST ${path} with ${response.status}`,
      );
    }
  }
}
