import type { InvalidationEvent } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
import type { CatalogCache } from '../data/catalog-cache';
import type { CatalogRepository } from '../data/catalog-repository';

/**
 * Routing keys the catalog's queue is bound to: its own events, `catalog.product.*`,
 * `catalog.stock.updated` (a stock change; entityId is the product id) and `catalog.category.*`.
 */
export const CATALOG_EVENT_BINDINGS = ['catalog.#'];

/**
 * Every cache write of a handler is confirmed: one that did not reach memcached throws, and the
 * event is redelivered by the broker instead of being acked with its purge lost.
 */
const CONFIRM = { confirm: true } as const;

/** A refresh from the row read just now: confirmed, and it fills an absent key. */
const REFRESH = { confirm: true, refresh: true } as const;

/**
 * The product ids an event is about, as the durable consumer below reads it: a product or stock
 * event names its product; a category event stands for products only the database can list.
 */
export function catalogEventProducts(event: InvalidationEvent): number[] | 'category' | 'none' {
  if (event.source !== 'catalog') return 'none';
  if (event.entity === 'category') return 'category';
  if (event.entity !== 'product' && event.entity !== 'stock') return 'none';
  const id = Number(event.entityId);
  return Number.isInteger(id) && id >= 1 ? [id] : 'none';
}

/**
 * The in-process (near cache) keys an event makes stale, from the same reading of the event:
 * a category event drops every held product, since naming them needs a query.
 */
export function catalogNearCacheKeys(productKey: (id: number) => string) {
  return (event: InvalidationEvent): string[] | 'all' => {
    const products = catalogEventProducts(event);
    if (products === 'category') return 'all';
    if (products === 'none') return [];
    return products.map(productKey);
  };
}

export interface CatalogEventDeps {
  repository: Pick<CatalogRepository, 'findProduct' | 'findProducts' | 'categoryProductIds'>;
  cache: CatalogCache;
  logger: Logger;
}

/**
 * The catalog consumes its own events too. The writing instance fixes its cache right after
 * the commit; this repeats it for the case where that instance died in between (the outbox
 * still published the event). Idempotent: a purge or a versioned write-through can
 * run any number of times.
 */
export function createCatalogEventHandler({ repository, cache, logger }: CatalogEventDeps) {
  return async function handleCatalogEvent(event: InvalidationEvent): Promise<void> {
    if (event.source !== 'catalog') return;
    const id = Number(event.entityId);
    if (!Number.isInteger(id) || id < 1) {
      logger.warn({ eventId: event.id, entityId: event.entityId }, 'catalog event with a bad id ignored');
      return;
    }
    if (event.entity === 'product' || event.entity === 'stock') {
      await refreshProduct(event, id);
      return;
    }
    if (event.entity === 'category') {
      await cache.bumpCategories([id], CONFIRM);
      // Throws while the database is down: the bus retries the event later.
      const productIds = await repository.categoryProductIds(id);
      const products = await repository.findProducts(productIds);
      await Promise.all([...products.values()].map((product) => cache.writeProduct(product, REFRESH)));
      await cache.purgeProducts(
        productIds.filter((pid) => !products.has(pid)),
        CONFIRM,
      );
    }
  };

  async function refreshProduct(event: InvalidationEvent, id: number): Promise<void> {
    if (event.action === 'deleted') {
      await cache.purgeProducts([id], CONFIRM);
      return;
    }
    // Every instance consumes its own events. For stock events the writer's write-through (or a
    // read after the commit) usually already holds this version: one get instead of a Postgres
    // read, a CAS write and a category bump. Product events are published at the commit, so they
    // often arrive before the writer's fix and repeat it; both writes are versioned. The writer
    // bumps its categories before it fixes the product entry, so its entry implies its bump; the
    // case left (a writer that died before both, then a read that cached the new row before this
    // event) leaves the category's pages to their 60 s TTL.
    const cachedVersion = await cache.cachedProductVersion(id);
    if (event.version !== undefined && cachedVersion !== undefined && cachedVersion >= event.version) {
      return;
    }
    // Refresh rather than purge, so the write-through value survives its own event; the
    // versioned write keeps whichever of the two is newer.
    let product;
    try {
      product = await repository.findProduct(id);
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message }, eventId: event.id }, 'refresh failed, purging');
      await cache.purgeProducts([id], CONFIRM);
      return;
    }
    if (!product) {
      await cache.purgeProducts([id], CONFIRM);
      return;
    }
    if (event.action === 'created') await cache.purgeProducts([id], CONFIRM);
    else await cache.writeProduct(product, REFRESH);
    // Category pages carry no stock: a stock change leaves them alone.
    if (event.entity === 'product') await cache.bumpCategories([product.categoryId], CONFIRM);
  }
}
