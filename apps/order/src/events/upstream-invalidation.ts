import type { InvalidationEvent } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
import type { OrderCacheKeys } from '../data/cache-keys';

/**
 * What order-service's queue (memshop.order.invalidation) is bound to: changes of the data it
 * keeps copies of. Category changes are not among them (an order shows no category), nor are
 * stock changes (`catalog.stock.updated`): the copies carry no stock, and binding them would
 * purge every ordered product's copy on every order.
 */
export const ORDER_EVENT_BINDINGS = ['catalog.product.*', 'user.user.*'];

export interface UpstreamInvalidationDeps {
  cache: { invalidate(keys: string | string[], opts?: { confirm?: boolean }): Promise<void> };
  keys: OrderCacheKeys;
  logger: Logger;
}

/**
 * The cross-service half of invalidation: catalog or user-service changed an entity, so
 * order-service's copy is purged (not refreshed: the next read loads it once, and an entity
 * nobody reads again costs nothing). Idempotent, so redelivery is harmless.
 */
export function createUpstreamInvalidationHandler({ cache, keys, logger }: UpstreamInvalidationDeps) {
  return async function purgeUpstreamCopy(event: InvalidationEvent): Promise<void> {
    const key =
      event.source === 'catalog' && event.entity === 'product'
        ? keys.product(event.entityId)
        : event.source === 'user' && event.entity === 'user'
          ? keys.user(event.entityId)
          : undefined;
    if (!key) {
      logger.debug(
        { eventId: event.id, source: event.source, entity: event.entity },
        'event not about a copy we keep',
      );
      return;
    }
    // Confirmed: a purge that did not reach memcached throws, so the broker redelivers the
    // event instead of it being acked and lost.
    await cache.invalidate(key, { confirm: true });
  };
}
