import { waitFor } from '@memshop/testing';
import type { CatalogInstance, CatalogWorld } from './catalog-world';

/**
 * "The events drained": every outbox row is published, handled by the catalog's queue (by
 * whichever instance got it) and by every instance's near-cache feed, and product events also by `productConsumers` (order's copies);
 * then the caches' background writes are done.
 */
export async function waitForEventsToDrain(
  world: CatalogWorld,
  catalogs: CatalogInstance[],
  productConsumers: Array<{ consumedEventIds: Set<string>; cache: { drain(): Promise<void> } }> = [],
): Promise<void> {
  await waitFor(
    async () => {
      const rows = await world.adminPrisma.$queryRawUnsafe<
        Array<{ id: string; published: boolean; productEvent: boolean }>
      >(
        `SELECT event_id::text AS id, published_at IS NOT NULL AS published,
                routing_key LIKE 'catalog.product.%' AS "productEvent" FROM memshop_outbox`,
      );
      return rows.every(
        (row) =>
          row.published &&
          catalogs.some((c) => c.consumedEventIds.has(row.id)) &&
          // Each near cache hears every event on its own queue, apart from the shared one.
          catalogs.every((c) => c.nearCacheEventIds?.has(row.id) ?? true) &&
          (!row.productEvent || productConsumers.every((c) => c.consumedEventIds.has(row.id))),
      );
    },
    { timeoutMs: 30_000, intervalMs: 50, message: 'outbox backlog 0 and every event consumed' },
  );
  await Promise.all([...catalogs, ...productConsumers].map((c) => c.cache.drain()));
}
