import type { InvalidationEvent } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
import type { CatalogCache } from '../data/catalog-cache';
import type { CatalogRepository } from '../data/catalog-repository';

/** Routing keys the catalog's queue is bound to: its own events. */
export const CATALOG_EVENT_BINDINGS = ['catalog.#'];

export interface CatalogEventDeps {
  repository: CatalogRepository;
  cache: CatalogCache;
  logger: Logger;
}

/**
 * The catalog consumes its own events too. The writing instance already fixed its cache right
 * after the commit; this repeats it for the case where that instance died in between (the
 * outbox still published the event). Idempotent: a purge or a versioned write-through can
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
    if (event.entity === 'product') {
      if (event.action === 'deleted') {
        await cache.purgeProducts([id]);
        return;
      }
      // Refresh rather than purge, so the write-through value survives its own event; the
      // versioned write keeps whichever of the two is newer.
      let product;
      try {
        product = await repository.findProduct(id);
      } catch (err) {
        logger.warn(
          { err: { message: (err as Error).message }, eventId: event.id },
          'refresh failed, purging',
        );
        await cache.purgeProducts([id]);
        return;
      }
      if (!product) {
        await cache.purgeProducts([id]);
        return;
      }
      if (event.action === 'created') await cache.purgeProducts([id]);
      else await cache.writeProduct(product);
      await cache.bumpCategories([product.categoryId]);
      return;
    }
    if (event.entity === 'category') {
      await cache.bumpCategories([id]);
      // Throws while the database is down: the bus retries the event later.
      const productIds = await repository.categoryProductIds(id);
      await cache.purgeProducts(productIds);
    }
  };
}
