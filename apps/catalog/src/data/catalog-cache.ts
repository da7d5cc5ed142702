import { keySpace, type Cache, type CacheJsonResult, type CacheStatus } from '@memshop/cache';
import type { ReadDeadline } from '@memshop/service-kit';
import {
  isCategoryProductsPage,
  isProduct,
  type CategoryProductsPage,
  type Product,
} from '../domain/product';

export interface CatalogCacheOptions {
  cache: Cache;
  /** CACHE_SCHEMA_VERSION: a deploy that changes a value's shape bumps it and never reads old entries. */
  schemaVersion: number;
}

export interface Cached<T> {
  value: T | null;
  status: CacheStatus;
}

// Products change rarely and every change is purged or written through, so the TTL only bounds
// how long a missed invalidation could live; lists are cheaper to rebuild and live shorter.
const PRODUCT_TTL_SECONDS = 300;
const LIST_TTL_SECONDS = 60;

/** Product keys: `catalog:product:v<schemaVersion>:<id>`; its `prefix` names every product key. */
export function productKeySpace(schemaVersion: number) {
  return keySpace({ prefix: 'catalog', entity: 'product', schemaVersion });
}

/**
 * The catalog's cache-aside wiring: one place that builds keys (with the schema version) and
 * says how long each entity lives.
 */
export class CatalogCache {
  readonly #cache: Cache;
  readonly #products;
  readonly #categoryPages;

  constructor({ cache, schemaVersion }: CatalogCacheOptions) {
    this.#cache = cache;
    this.#products = productKeySpace(schemaVersion);
    this.#categoryPages = keySpace({ prefix: 'catalog', entity: 'category-products', schemaVersion });
  }

  productKey(id: number): string {
    return this.#products.key(String(id));
  }

  /** Unknown ids come back as null and are cached briefly, so repeated misses do not all reach Postgres. */
  getProduct(
    id: number,
    load: () => Promise<Product | null>,
    opts: { bypassCache?: boolean } & ReadDeadline = {},
  ): Promise<Cached<Product>> {
    // The benchmark's baseline (P2): the same endpoint with every read going to Postgres.
    if (opts.bypassCache) return load().then((value) => ({ value, status: 'bypass' }));
    return this.#cache.getOrLoad(this.productKey(id), load, {
      deadline: opts.deadline,
      entity: 'product',
      ttlSeconds: PRODUCT_TTL_SECONDS,
      validate: isProduct,
      versionOf: productVersion,
    });
  }

  /**
   * getProduct as JSON bytes for the HTTP response: a hit is the stored bytes, neither parsed nor
   * stringified again (the same read, leases and validation as getProduct otherwise).
   */
  getProductJson(
    id: number,
    load: () => Promise<Product | null>,
    { deadline }: ReadDeadline = {},
  ): Promise<CacheJsonResult> {
    return this.#cache.getOrLoadJson(this.productKey(id), load, {
      deadline,
      entity: 'product',
      ttlSeconds: PRODUCT_TTL_SECONDS,
      validate: isProduct,
      versionOf: productVersion,
    });
  }

  /** One multi-get for all ids, one loader call for every miss. */
  async getProducts(
    ids: number[],
    load: (missing: number[]) => Promise<Map<number, Product>>,
    { deadline }: ReadDeadline = {},
  ): Promise<Map<number, Cached<Product>>> {
    const keyToId = new Map(ids.map((id) => [this.productKey(id), id]));
    const results = await this.#cache.getManyOrLoad<Product>(
      [...keyToId.keys()],
      async (missingKeys) => {
        const loaded = await load(missingKeys.map((key) => keyToId.get(key)!));
        return new Map(missingKeys.map((key) => [key, loaded.get(keyToId.get(key)!) ?? null]));
      },
      {
        deadline,
        entity: 'product',
        ttlSeconds: PRODUCT_TTL_SECONDS,
        validate: isProduct,
        versionOf: productVersion,
      },
    );
    const byId = new Map<number, Cached<Product>>();
    for (const [key, result] of results) byId.set(keyToId.get(key)!, result);
    return byId;
  }

  /**
   * A page of a category's products under the category's namespace version: any change in the
   * category bumps the version, which orphans every page at once (no key scan).
   */
  async getCategoryPage(
    categoryId: number,
    offset: number,
    limit: number,
    load: () => Promise<CategoryProductsPage | null>,
    { deadline }: ReadDeadline = {},
  ): Promise<Cached<CategoryProductsPage>> {
    const nsVersion = await this.#cache.keyGeneration(this.#categoryNamespace(categoryId));
    const key = this.#categoryPages.key(`${categoryId}:${offset}:${limit}`, nsVersion);
    return this.#cache.getOrLoad(key, load, {
      deadline,
      entity: 'category-products',
      ttlSeconds: LIST_TTL_SECONDS,
      validate: isCategoryProductsPage,
    });
  }

  /**
   * Write-through: the committed product replaces an older entry. A writer's write fills no
   * absent key (and deletes a lease): that key may have held a newer version until memcached
   * evicted it, and a writer that stalled since its commit would bring its older one back, then
   * its own event would be skipped as already cached and every copy refetched from here frozen.
   * `refresh` (event consumers, which read the row just now): an absent key is filled too.
   * `confirm` (event consumers): rejects when neither the write nor the fallback delete
   * reached memcached, so the event is redelivered instead of acked.
   */
  writeProduct(product: Product, opts: Confirm & { refresh?: boolean } = {}): Promise<void> {
    return this.#cache.writeThrough(this.productKey(product.id), product, {
      version: product.version,
      ttlSeconds: PRODUCT_TTL_SECONDS,
      entity: 'product',
      confirm: opts.confirm,
      replaceOnly: opts.refresh !== true,
    });
  }

  /**
   * The version of the product cached under `id`, or undefined when there is no product there
   * (nothing, a "not found", a lease, a corrupt entry, or memcached did not answer). One get:
   * no lease, no load, not counted as a read (an event is not a request).
   */
  cachedProductVersion(id: number): Promise<number | undefined> {
    return this.#cache.cachedVersion(this.productKey(id));
  }

  purgeProducts(ids: number[], opts: Confirm = {}): Promise<void> {
    return ids.length === 0
      ? Promise.resolve()
      : this.#cache.invalidate(
          ids.map((id) => this.productKey(id)),
          opts,
        );
  }

  async bumpCategories(categoryIds: number[], opts: Confirm = {}): Promise<void> {
    await Promise.all(
      [...new Set(categoryIds)].map((id) => this.#cache.bumpKeyGeneration(this.#categoryNamespace(id), opts)),
    );
  }

  #categoryNamespace(categoryId: number): string {
    return `catalog:category-products:${categoryId}`;
  }
}

/** `confirm: true` makes a cache write that did not land reject (see Cache.invalidate). */
type Confirm = { confirm?: boolean };

/** The row version, so a populate and a write-through compare like with like. */
const productVersion = (product: Product): number => product.version;
