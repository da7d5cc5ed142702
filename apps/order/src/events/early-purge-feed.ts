import { InstanceInvalidationFeed, type LoggerLike } from '@memshop/cache';
import { BROKER_NAME_PREFIX } from '@memshop/service-kit';
import type { OrderCacheKeys } from '../data/cache-keys';
import { UPSTREAM_COPY_BINDINGS, upstreamCopyKey } from './upstream-invalidation';

export interface EarlyPurgeFeedOptions {
  /** The broker and exchange the service's bus uses. */
  url: string;
  exchange?: string;
  cache: { invalidate(keys: string | string[]): Promise<void> };
  keys: OrderCacheKeys;
  logger: LoggerLike;
}

/**
 * Purges order-service's copy of a product or user as soon as the broker routes the event,
 * ahead of the durable queue's delivery. A quorum queue hands a message to its consumer only
 * once its Raft log holds it (written and synced to disk), one more hop whose wait grows on a
 * busy machine. Each instance hears the same events on an exclusive, non-durable queue of its
 * own, without acks, and deletes the copy at once. Nothing depends on it: the durable delivery
 * still purges (confirmed, behind the version floor, redelivered until it lands), so an early
 * purge lost with a connection or a memcached error costs only the time it would have saved.
 * With N instances a copy is deleted N + 2 times per event; deletes are idempotent and cheap.
 */
export function createEarlyPurgeFeed({
  url,
  exchange,
  cache,
  keys,
  logger,
}: EarlyPurgeFeedOptions): InstanceInvalidationFeed {
  return new InstanceInvalidationFeed({
    url,
    service: 'order',
    namePrefix: BROKER_NAME_PREFIX,
    queuePrefix: `${BROKER_NAME_PREFIX}.order.purge`,
    ...(exchange === undefined ? {} : { exchange }),
    bindings: UPSTREAM_COPY_BINDINGS,
    logger,
    onEvent(event) {
      const key = upstreamCopyKey(keys, event);
      // A failed delete is already logged and counted by the cache; the durable delivery retries.
      if (key) void cache.invalidate(key).catch(() => undefined);
    },
  });
}
