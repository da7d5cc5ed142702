import type { InvalidationEvent } from '@memshop/cache';
import type { CacheStatus } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
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

export interface CatalogServiceDeps {
  repository: CatalogRepository;
  cache: CatalogCache;
  /** Publishes the outbox right after a commit (OutboxRelay.kick). */
  /** Called with the committed events once this service's own entries are fixed: publish them now. */
  afterCommit: (events: InvalidationEvent[]) => void;
  /** Counts a product view (ProductViewFlusher.recordView); optional. */
  recordView?: (productId: number) => void;
  logger: Logger;
}

export interface WithCacheStatus<T> {
  value: T;
  cacheStatus: CacheStatus;
}

/**
 * What the catalog does. Reads go through the cache; writes commit (rows + outbox event in one
 * transaction), then fix this service's own cache entries at once. The event repeats the fix
 * for any instance that died between the commit and its own purge.
 */
export class CatalogService {
  constructor(private readonly deps: CatalogServiceDeps) {}

  /** null for an unknown id (the absence is cached too, hence the status). */
  async getProduct(
    id: number,
    opts: { bypassCache?: boolean } = {},
  ): Promise<WithCacheStatus<Product | null>> {
    const { value, status } = await this.deps.cache.getProduct(
      id,
      () => this.deps.repository.findProduct(id),
      opts,
    );
    if (value) this.deps.recordView?.(id);
    return { value, cacheStatus: status };
  }

  /** Products in request order; unknown ids are listed in `missing`. */
  async getProducts(
    ids: number[],
  ): Promise<{ products: Product[]; missing: number[]; statuses: CacheStatus[] }> {
    const results = await this.deps.cache.getProducts(ids, (missing) =>
      this.deps.repository.findProducts(missing),
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

  async getCategoryProducts(
    categoryId: number,
    offset: number,
    limit: number,
  ): Promise<WithCacheStatus<CategoryProductsPage | null>> {
    const { value, status } = await this.deps.cache.getCategoryPage(categoryId, offset, limit, () =>
      this.deps.repository.listCategoryProducts(categoryId, offset, limit),
    );
    return { value, cacheStatus: status };
  }

  async createProduct(input: NewProduct): Promise<Product> {
    const { product, categoryIds, events } = await this.deps.repository.createProduct(input);
    // Categories first: the event consumer takes a cached product entry of this version as
    // proof that the writer's work is done (catalog-events.ts).
    await this.deps.cache.bumpCategories(categoryIds);
    // The id may sit in the cache as "not found" (negative caching): purge it.
    await this.deps.cache.purgeProducts([product.id]);
    this.deps.afterCommit(events);
    return product;
  }

  async updateProduct(id: number, changes: ProductChanges): Promise<Product> {
    const { product, categoryIds, events } = await this.deps.repository.updateProduct(id, changes);
    // Categories first, as in createProduct.
    await this.deps.cache.bumpCategories(categoryIds);
    await this.deps.cache.writeProduct(product);
    // Publish only now: a consumer that purges its copy and refetches from this service must
    // find the new value here, not the old one (the relay's poll covers a crash before this).
    this.deps.afterCommit(events);
    return product;
  }

  async deleteProduct(id: number): Promise<void> {
    const { categoryId, events } = await this.deps.repository.deleteProduct(id);
    await this.deps.cache.purgeProducts([id]);
    await this.deps.cache.bumpCategories([categoryId]);
    this.deps.afterCommit(events);
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

  /** Category pages carry no stock, so a stock change bumps none (nor does its event, catalog.stock.updated). */
  async #adjustStock(items: StockItem[], sign: 1 | -1): Promise<Product[]> {
    const { products, events } = await this.deps.repository.adjustStock(items, sign);
    await Promise.all(products.map((product) => this.deps.cache.writeProduct(product)));
    this.deps.afterCommit(events);
    return products;
  }

  /** Writes the current rows through (version-checked); ids gone meanwhile are purged. */
  async #refreshProducts(ids: number[]): Promise<void> {
    const products = await this.deps.repository.findProducts(ids);
    await Promise.all([...products.values()].map((product) => this.deps.cache.writeProduct(product)));
    await this.deps.cache.purgeProducts(ids.filter((id) => !products.has(id)));
  }
}
