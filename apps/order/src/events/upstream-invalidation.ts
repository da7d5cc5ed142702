import type { InvalidationEvent, VersionFloors } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
import type { OrderCacheKeys } from '../data/cache-keys';

/** The events that make one of order-service's copies of another service's data stale. */
export const UPSTREAM_COPY_BINDINGS = ['catalog.product.*', 'user.user.*'];

/**
 * What order-service's queue is bound to: changes of the data it keeps copies of, and its own
 * order events. Category changes are not among them (an order shows no category), nor are
 * stock changes (`catalog.stock.updated`): the copies carry no stock, and binding them would
 * purge every ordered product's copy on every order. Its own events are bound because the bus
 * publishes `mandatory`: an event no queue takes comes back as a failed publish, and because
 * they repeat the writer's cache fix when the writer died between its commit and that fix.
 */
export const ORDER_EVENT_BINDINGS = [...UPSTREAM_COPY_BINDINGS, 'order.order.*'];

/** The key of the copy `event` makes stale, or undefined when order-service keeps no copy of it. */
function upstreamCopyKey(keys: OrderCacheKeys, event: InvalidationEvent): string | undefined {
  if (event.source === 'catalog' && event.entity === 'product') return keys.product(event.entityId);
  if (event.source === 'user' && event.entity === 'user') return keys.user(event.entityId);
  return undefined;
}

export interface UpstreamInvalidationDeps {
  cache: {
    invalidate(keys: string | string[], opts?: { confirm?: boolean }): Promise<void>;
    cachedVersion(key: string): Promise<number | undefined>;
  };
  keys: OrderCacheKeys;
  /** The least version a refill of a product's copy may cache (CachedProductDirectory). */
  productFloors: Pick<VersionFloors<number>, 'raise'>;
  logger: Logger;
}

/**
 * The cross-service half of invalidation: catalog or user-service changed an entity, so
 * order-service's copy is purged (not refreshed: the next read loads it once, and an entity
 * nobody reads again costs nothing). Idempotent, so redelivery is harmless.
 */
export function createUpstreamInvalidationHandler({
  cache,
  keys,
  productFloors,
  logger,
}: UpstreamInvalidationDeps) {
  return async function purgeUpstreamCopy(event: InvalidationEvent): Promise<void> {
    if (event.source === 'order' && event.entity === 'order') {
      await purgeOlderOrder(event);
      return;
    }
    const key = upstreamCopyKey(keys, event);
    if (!key) {
      logger.debug(
        { eventId: event.id, source: event.source, entity: event.entity },
        'event not about a copy we keep',
      );
      return;
    }
    // Every purge is confirmed: one that did not reach memcached throws, so the broker
    // redelivers the event instead of it being acked and lost.
    if (event.source !== 'catalog' || event.version === undefined) {
      await cache.invalidate(key, { confirm: true });
      return;
    }
    await purgeAboveFloor(event, key, event.version);
  };

  /**
   * catalog publishes at its commit, before its own cache holds the new row, so a refill could
   * read the version this event replaced. The purge does not wait for the floor that stops such
   * refills: a refill in between (the floor's two round trips) is purged again once the floor is
   * in place, which also fails the populate of one still loading. The second purge runs even
   * when the floor failed (the event is then redelivered), so no such refill outlives it.
   */
  async function purgeAboveFloor(event: InvalidationEvent, rawKey: string, version: number): Promise<void> {
    const productId = Number(event.entityId);
    if (!Number.isInteger(productId) || productId < 1) {
      // No copy is kept under such an id, and no floor can name it: purged as sent, not floored.
      logger.warn(
        { eventId: event.id, entityId: event.entityId },
        'product event with a bad id: purged only',
      );
      await cache.invalidate(rawKey, { confirm: true });
      return;
    }
    // The copy's key from the same number as the floor's, so the two always name one product.
    const key = keys.product(productId);
    const [floor, firstPurge] = await Promise.allSettled([
      productFloors.raise(productId, version),
      cache.invalidate(key, { confirm: true }),
    ]);
    await cache.invalidate(key, { confirm: true });
    for (const step of [floor, firstPurge]) if (step.status === 'rejected') throw step.reason;
  }

  /**
   * The writer wrote its order through (versioned) before publishing, so usually the entry
   * already holds this version or a newer one: one get, nothing else. An older entry (the
   * writer died before its write-through) is purged, and the next read loads the row.
   */
  async function purgeOlderOrder(event: InvalidationEvent): Promise<void> {
    const key = keys.order(event.entityId);
    const cached = await cache.cachedVersion(key);
    if (event.version !== undefined && cached !== undefined && cached >= event.version) return;
    await cache.invalidate(key, { confirm: true });
  }
}
