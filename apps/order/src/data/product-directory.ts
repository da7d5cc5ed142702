import type { ReadDeadline } from '@memshop/service-kit';
import type { Cache, VersionFloors } from '@memshop/cache';
import type { ProductDirectory, ProductSummary, Read } from '../domain/order';
import type { CatalogClient } from './catalog-client';
import type { OrderCacheKeys } from './cache-keys';
import { isProductSummary, PRODUCT_TTL_SECONDS } from './summaries';

/**
 * catalog's products through order-service's cache: one multi-get for all of an order's
 * products, one batch call to catalog for the misses. Entries are purged by catalog.product.*
 * events (events/), so the TTL only bounds how long a lost event could matter. A refill caches
 * nothing older than the version floor the purge left (events/upstream-invalidation.ts).
 */
export class CachedProductDirectory implements ProductDirectory {
  constructor(
    private readonly cache: Cache,
    private readonly catalog: CatalogClient,
    private readonly keys: OrderCacheKeys,
    private readonly floors: Pick<VersionFloors<number>, 'read'>,
  ) {}

  async getProducts(
    ids: number[],
    { deadline }: ReadDeadline = {},
  ): Promise<Map<number, Read<ProductSummary | null>>> {
    const distinct = [...new Set(ids)];
    const idOfKey = new Map(distinct.map((id) => [this.keys.product(id), id]));
    const results = await this.cache.getManyOrLoad<ProductSummary>(
      [...idOfKey.keys()],
      async (missingKeys) => {
        const missingIds = missingKeys.map((key) => idOfKey.get(key)!);
        // Floors are read once this refill holds its leases (beside the catalog call: only the
        // floor read's own moment matters): a refill that read before the floor landed is removed
        // by the handler's second purge, which follows the floor; one that read after it sees it.
        const loaded = await this.catalog.getProductsAtLeast(missingIds, (ids) => this.floors.read(ids));
        return new Map(missingKeys.map((key) => [key, loaded.get(idOfKey.get(key)!) ?? null]));
      },
      { deadline, entity: 'product', ttlSeconds: PRODUCT_TTL_SECONDS, validate: isProductSummary },
    );
    const byId = new Map<number, Read<ProductSummary | null>>();
    for (const [key, id] of idOfKey) {
      const result = results.get(key);
      byId.set(
        id,
        result ? { value: result.value, status: result.status } : { value: null, status: 'bypass' },
      );
    }
    return byId;
  }
}
