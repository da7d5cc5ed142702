import type { InvalidationEvent } from '@memshop/cache';
import type { CacheStatus } from '@memshop/cache';
import type { Logger, ReadDeadline } from '@memshop/service-kit';
import type { CatalogCache } from '../data/catalog-cache';
import type { CatalogRepository } from '../data/catalog-repository';
import type {
  Category,
  CategoryProductsPage,
  NewProduct,
  Product,
  ProductChanges,
  StockItem,
} from './product';
import { ReservationReleasedError } from './errors';
import type { StockReservation } from './stock-reservation';

export interface CatalogServiceDeps {
  repository: CatalogRepository;
  cache: CatalogCache;
  /**
   * Publishes committed events now (OutboxRelay.kick), unless they were announced at commit and
   * the relay thread publishes them; the relay's poll covers a crash before either.
   */
  afterCommit: (events: InvalidationEvent[], opts?: { announced: boolean }) => void;
  /**
   * Other services' copies of the products a write changed (DownstreamCopies.purge), deleted
   * once this service's own entries are fixed; never rejects. Optional.
   */
  purgeProductCopies?: (ids: number[]) => Promise<void>;
  /** Counts a product view (ProductViewFlusher.recordView); optional. */
  recordView?: (productId: number) => void;
  logger: Logger;
  /** How long a reservation that names no expiry of its own stays active unconfirmed. Default 900 s. */
  reservationTtlSeconds?: number;
}

/** Default expiry of a reservation: long enough for an order's confirmation to be retried through an outage of minutes. */
export const DEFAULT_RESERVATION_TTL_SECONDS = 900;

export interface WithCacheStatus<T> {
  value: T;
  cacheStatus: CacheStatus;
}

/**
 * What the catalog does. Reads go through the cache; writes commit (rows + outbox event in one
 * transaction), then fix this service's own cache entries at once. The event repeats the fix
 * for any instance that died between the commit and its own purge.
 *
 * A product write then deletes the other services' copies it was told of (purgeProductCopies), so
 * they are gone before it answers, broker or no broker, and a refill after that usually reads the
 * new row (the event, with its floor, covers the rest).
 *
 * A product's event is published at its commit, before that fix, so other services' copies
 * are purged as soon as the row is committed; a copy refilled from this cache in between would
 * read the version before, which is why consumers raise a version floor when they purge
 * (VersionFloors in order-service's event handler). Stock and category events are published after the fix:
 * no copy elsewhere is purged by them, and this service's own consumer then finds its work done.
 */
export class CatalogService {
  constructor(private readonly deps: CatalogServiceDeps) {}

  /** null for an unknown id (the absence is cached too, hence the status). */
  async getProduct(
    id: number,
    opts: { bypassCache?: boolean } & ReadDeadline = {},
  ): Promise<WithCacheStatus<Product | null>> {
    const { value, status } = await this.deps.cache.getProduct(
      id,
      () => this.deps.repository.findProduct(id),
      opts,
    );
    if (value) this.deps.recordView?.(id);
    return { value, cacheStatus: status };
  }

  /** getProduct as the product's JSON text (null: not found), for a response that sends it as is. */
  async getProductJson(
    id: number,
    opts: ReadDeadline = {},
  ): Promise<{ json: Buffer | null; cacheStatus: CacheStatus }> {
    const { json, status } = await this.deps.cache.getProductJson(
      id,
      () => this.deps.repository.findProduct(id),
      opts,
    );
    if (json) this.deps.recordView?.(id);
    return { json, cacheStatus: status };
  }

  /** Products in request order; unknown ids are listed in `missing`. */
  async getProducts(
    ids: number[],
    opts: ReadDeadline = {},
  ): Promise<{ products: Product[]; missing: number[]; statuses: CacheStatus[] }> {
    const results = await this.deps.cache.getProducts(
      ids,
      (missing) => this.deps.repository.findProducts(missing),
      opts,
    );
    const products: Product[] = [];
    const missing: number[] = [];
    const statuses: CacheStatus[] = [];
    for (const id of ids) {
      const result = results.get(id);
      if (result) statuses.push(result.status);
      if (result?.value) products.push(result.value);
      else missing.push(id);
    }
    return { products, missing, statuses };
  }

  /**
   * Products read from the database, never from the cache: what other services' auditors compare
   * their copies with (read through the cache, a stale entry here would make a copy just as stale
   * there look fresh), and what order-service refills a copy from when this cache may still hold
   * a version below the copy's floor.
   */
  async getProductsFromSource(ids: number[]): Promise<{ products: Product[]; missing: number[] }> {
    const found = await this.deps.repository.findProducts(ids);
    return {
      products: ids.flatMap((id) => found.get(id) ?? []),
      missing: ids.filter((id) => !found.has(id)),
    };
  }

  async getCategoryProducts(
    categoryId: number,
    offset: number,
    limit: number,
    opts: ReadDeadline = {},
  ): Promise<WithCacheStatus<CategoryProductsPage | null>> {
    const { value, status } = await this.deps.cache.getCategoryPage(
      categoryId,
      offset,
      limit,
      () => this.deps.repository.listCategoryProducts(categoryId, offset, limit),
      opts,
    );
    return { value, cacheStatus: status };
  }

  async createProduct(input: NewProduct): Promise<Product> {
    const { product, categoryIds, events, announced } = await this.deps.repository.createProduct(input);
    this.deps.afterCommit(events, { announced });
    // Categories first: the event consumer takes a cached product entry of this version as
    // proof that the writer's work is done (catalog-events.ts).
    await this.deps.cache.bumpCategories(categoryIds);
    // The id may sit in the cache as "not found" (negative caching): purge it.
    await this.deps.cache.purgeProducts([product.id]);
    // After that purge, or a copy's refill could read the "not found" still cached here.
    await this.deps.purgeProductCopies?.([product.id]);
    return product;
  }

  async updateProduct(id: number, changes: ProductChanges): Promise<Product> {
    const { product, categoryIds, events, announced } = await this.deps.repository.updateProduct(id, changes);
    this.deps.afterCommit(events, { announced });
    // Categories first, as in createProduct.
    await this.deps.cache.bumpCategories(categoryIds);
    await this.deps.cache.writeProduct(product);
    // Only now, so a copy refilled after this purge finds the row just written in this cache.
    await this.deps.purgeProductCopies?.([id]);
    return product;
  }

  async deleteProduct(id: number): Promise<void> {
    const { categoryId, events, announced } = await this.deps.repository.deleteProduct(id);
    this.deps.afterCommit(events, { announced });
    await this.deps.cache.purgeProducts([id]);
    // After that purge, as in createProduct: a refill then finds no product.
    await this.deps.purgeProductCopies?.([id]);
    await this.deps.cache.bumpCategories([categoryId]);
  }

  async updateCategory(id: number, changes: { name: string }): Promise<Category> {
    const { category, productIds, events } = await this.deps.repository.updateCategory(id, changes);
    await this.deps.cache.bumpCategories([id]);
    // Cached products embed their category's name; the rename gave each a new version, and a
    // versioned refresh (not a purge) keeps a late write-through of the old name out.
    await this.#refreshProducts(productIds);
    this.deps.afterCommit(events);
    return category;
  }

  /** Takes stock for an order, all items or none (InsufficientStockError). */
  reserveStock(items: StockItem[]): Promise<Product[]> {
    return this.#adjustStock(items, -1);
  }

  /** Gives stock back (an order that failed after its reservation). */
  releaseStock(items: StockItem[]): Promise<Product[]> {
    return this.#adjustStock(items, 1);
  }

  /**
   * Takes the stock for `reference` (all items or none), or answers from the reservation the
   * reference already has. Stock changes are written through to the cache like any stock write.
   */
  async reserveStockFor(
    reference: string,
    items: StockItem[],
    ttlSeconds?: number,
  ): Promise<{ reservation: StockReservation; products: Product[] }> {
    const ttl = ttlSeconds ?? this.deps.reservationTtlSeconds ?? DEFAULT_RESERVATION_TTL_SECONDS;
    const write = await this.deps.repository.reservations.reserve(reference, items, ttl);
    await this.#afterStockWrite(write.products, write.events);
    return write;
  }

  /** ReservationReleasedError when it was released (or never made): it can no longer be confirmed. */
  async confirmReservation(reference: string): Promise<StockReservation> {
    const reservation = await this.deps.repository.reservations.confirm(reference);
    if (reservation.status === 'released') throw new ReservationReleasedError(reference);
    return reservation;
  }

  async releaseReservation(reference: string): Promise<StockReservation> {
    const write = await this.deps.repository.reservations.release(reference);
    await this.#afterStockWrite(write.products, write.events);
    return write.reservation;
  }

  findReservation(reference: string): Promise<StockReservation | null> {
    return this.deps.repository.reservations.find(reference);
  }

  /**
   * The sweeper's pass: releases active reservations past their expiry, one transaction each, at
   * most `limit` of them. Returns how many it released.
   */
  async releaseExpiredReservations(limit = 100): Promise<number> {
    let released = 0;
    while (released < limit) {
      const write = await this.deps.repository.reservations.releaseOneExpired();
      if (!write) break;
      released += 1;
      await this.#afterStockWrite(write.products, write.events);
    }
    return released;
  }

  async #afterStockWrite(products: Product[], events: InvalidationEvent[]): Promise<void> {
    await Promise.all(products.map((product) => this.deps.cache.writeProduct(product)));
    if (events.length > 0) this.deps.afterCommit(events);
  }

  /** Category pages carry no stock, so a stock change bumps none (nor does its event, catalog.stock.updated). */
  async #adjustStock(items: StockItem[], sign: 1 | -1): Promise<Product[]> {
    const { products, events } = await this.deps.repository.adjustStock(items, sign);
    await this.#afterStockWrite(products, events);
    return products;
  }

  /** Writes the current rows through (version-checked); ids gone meanwhile are purged. */
  async #refreshProducts(ids: number[]): Promise<void> {
    const products = await this.deps.repository.findProducts(ids);
    await Promise.all([...products.values()].map((product) => this.deps.cache.writeProduct(product)));
    await this.deps.cache.purgeProducts(ids.filter((id) => !products.has(id)));
  }
}
