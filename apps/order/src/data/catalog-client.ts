import createClient from 'openapi-fetch';
import { DependencyUnavailableError, InsufficientStockError, UnknownProductsError } from '../domain/errors';
import type { OrderLine, ProductSummary, StockReservation } from '../domain/order';
import type { paths } from './api-types/catalog-api';
import type { ServiceClient } from './service-client';

/** GET /products?ids= takes at most this many ids per call (catalog's limit). */
export const CATALOG_BATCH_MAX = 100;

const RELEASED: StockReservation = { status: 'released', items: [] };

/** A product as catalog answered it: what an order keeps, and the version it was read at. */
interface VersionedSummary {
  summary: ProductSummary;
  version: number;
}

function summaries(found: Map<number, VersionedSummary | null>): Map<number, ProductSummary | null> {
  return new Map([...found].map(([id, product]) => [id, product?.summary ?? null]));
}

/**
 * catalog-service's HTTP API, as much of it as an order needs. Paths, parameters and bodies are
 * typed by catalog's OpenAPI document (api-types/catalog-api.ts, `npm run openapi`): a field
 * catalog stops returning is a type error here, not a surprise in production.
 */
export class CatalogClient {
  readonly #api: ReturnType<typeof createClient<paths>>;

  constructor(http: ServiceClient) {
    this.#api = createClient<paths>({ baseUrl: http.baseUrl, fetch: http.fetch });
  }

  /**
   * Products by id through catalog's batch read (one multi-get there), in chunks of
   * CATALOG_BATCH_MAX; ids catalog does not return are unknown products. `readFloors` gives the
   * least version each id must have, if any (run beside the batch read, so the lookup costs no
   * round trip of its own): catalog publishes a product's event at its commit, so for a moment
   * its cache may still answer the version before. Such an answer (or a "not found" for an id
   * with a floor) is read again from catalog's database, which holds the committed row.
   */
  async getProductsAtLeast(
    ids: number[],
    readFloors: (ids: number[]) => Promise<ReadonlyMap<number, number>>,
  ): Promise<Map<number, ProductSummary | null>> {
    const [cached, floorOf] = await Promise.all([this.#productBatches('/products', ids), readFloors(ids)]);
    const behind = ids.filter((id) => {
      const floor = floorOf.get(id);
      if (floor === undefined) return false;
      const version = cached.get(id)?.version;
      return version === undefined || version < floor;
    });
    if (behind.length > 0) {
      for (const [id, product] of await this.#productBatches('/admin/source/products', behind)) {
        cached.set(id, product);
      }
    }
    return summaries(cached);
  }

  /**
   * The same from catalog's database, never its cache (GET /admin/source/products): what the
   * staleness auditor compares order-service's copies with, so a stale entry in catalog's cache
   * cannot make a stale copy here look fresh.
   */
  async getProductsFromSource(ids: number[]): Promise<Map<number, ProductSummary | null>> {
    return summaries(await this.#productBatches('/admin/source/products', ids));
  }

  async #productBatches(
    path: '/products' | '/admin/source/products',
    ids: number[],
  ): Promise<Map<number, VersionedSummary | null>> {
    const found = new Map<number, VersionedSummary | null>(ids.map((id) => [id, null]));
    for (let i = 0; i < ids.length; i += CATALOG_BATCH_MAX) {
      const chunk = ids.slice(i, i + CATALOG_BATCH_MAX);
      const { data, response } = await this.#api.GET(path, { params: { query: { ids: chunk.join(',') } } });
      // 404 (GET /products only): none of the ids exists.
      if (response.status === 404) continue;
      if (response.status !== 200 || !data) throw this.#unexpected('GET', path, response.status);
      for (const p of this.#list(path, data.products)) {
        if (found.has(p.id)) {
          const summary = { id: p.id, name: p.name, priceCents: p.priceCents, currency: p.currency };
          found.set(p.id, { summary, version: p.version });
        }
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
    const { data, error, response } = await this.#api.POST(path, {
      body: { reference, items },
      headers: { 'idempotency-key': reference },
    });
    if (response.status === 409) {
      const conflict = error?.error;
      if (conflict?.code === 'reservation_released') return RELEASED;
      throw new InsufficientStockError(conflict?.details, conflict?.message);
    }
    if (response.status === 404) throw new UnknownProductsError(lines.map((l) => l.productId));
    if (response.status !== 200 || !data || !('status' in data)) {
      throw this.#unexpected('POST', path, response.status);
    }
    return this.#reservation(path, data);
  }

  /** POST /stock/confirmations: `confirmed`, or `released` when catalog no longer holds the stock. */
  async confirmReservation(reference: string): Promise<StockReservation> {
    const path = '/stock/confirmations';
    const { data, response } = await this.#api.POST(path, { body: { reference } });
    if (response.status === 409) return RELEASED;
    if (response.status !== 200 || !data) throw this.#unexpected('POST', path, response.status);
    return this.#reservation(path, data);
  }

  /** POST /stock/releases by reference: idempotent, also for a reference catalog never saw. */
  async releaseReservation(reference: string): Promise<void> {
    const path = '/stock/releases';
    const { response } = await this.#api.POST(path, { body: { reference } });
    if (response.status !== 200) throw this.#unexpected('POST', path, response.status);
  }

  #reservation(path: string, data: { status: StockReservation['status']; items: StockReservation['items'] }) {
    const items = this.#list(path, data.items).map(({ productId, quantity, priceCents, currency }) => ({
      productId,
      quantity,
      priceCents,
      currency,
    }));
    return { status: data.status, items } satisfies StockReservation;
  }

  /** The types say it is an array; a catalog that answers otherwise is unusable, not a crash here. */
  #list<T>(path: string, value: T[]): T[] {
    if (Array.isArray(value)) return value;
    throw new DependencyUnavailableError('catalog', `catalog answered ${path} with an unexpected body`);
  }

  #unexpected(method: string, path: string, status: number): DependencyUnavailableError {
    return new DependencyUnavailableError('catalog', `catalog answered ${method} ${path} with ${status}`);
  }
}
