import {
  InstanceInvalidationFeed,
  type InstanceInvalidationFeedOptions,
} from './instance-invalidation-feed.js';
import type { InvalidationEvent } from './invalidation-event.js';
import type { NearCache } from './near-cache.js';

export interface NearCacheFeedOptions extends Omit<InstanceInvalidationFeedOptions, 'onEvent'> {
  nearCache: NearCache;
  /**
   * The keys an event makes stale, the same mapping the service's event consumer uses, or
   * 'all' when they cannot be named from the event alone (everything held is dropped).
   */
  keysOf: (event: InvalidationEvent) => string[] | 'all';
}

/**
 * The instance feed wired to a near cache: each event drops the keys it names (remembering its
 * version as their floor), and the near cache serves only while the feed is connected.
 */
export function createNearCacheFeed({
  nearCache,
  keysOf,
  ...feedOptions
}: NearCacheFeedOptions): InstanceInvalidationFeed {
  const feed = new InstanceInvalidationFeed({
    ...feedOptions,
    onEvent(event) {
      const keys = keysOf(event);
      if (keys === 'all') nearCache.clear();
      else for (const key of keys) nearCache.evict(key, event.version);
    },
  });
  feed.onConnectionChange((connected) => nearCache.setFeedConnected(connected));
  return feed;
}
