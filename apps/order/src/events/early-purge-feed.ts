import { InstanceInvalidationFeed, type InvalidationEvent, type LoggerLike } from '@memshop/cache';
import { BROKER_NAME_PREFIX } from '@memshop/service-kit';
import { UPSTREAM_COPY_BINDINGS } from './upstream-invalidation';

export interface EarlyPurgeFeedOptions {
  /** The broker and exchange the service's bus uses. */
  url: string;
  exchange?: string;
  /** The durable queue's handler (createUpstreamInvalidationHandler): floor and purges, idempotent. */
  purge: (event: InvalidationEvent) => Promise<void>;
  /** Events handled at once; more are left to the durable queue. */
  maxInFlight?: number;
  reconnectMaxDelayMs?: number;
  logger: LoggerLike;
}

/** The bus's default prefetch: the durable consumer handles as many at once. */
const DEFAULT_MAX_IN_FLIGHT = 32;

/**
 * Runs the handler of order-service's copies as soon as the broker routes an event, ahead of the
 * durable queue's delivery. A quorum queue hands a message to its consumer only once its Raft
 * log holds it (written and synced to disk), one more hop whose wait grows on a busy machine.
 * Each instance hears the same events on an exclusive, non-durable queue of its own, without
 * acks, and runs the same handler at once: the version floor is raised beside the first purge and
 * the copy purged again once it is in place, so no refill from catalog's not yet fixed cache
 * outlives the early run.
 * Nothing depends on it: the durable delivery runs the handler again (idempotent) and
 * redelivers until it succeeds, so an early run lost with a connection, failed on memcached, or
 * skipped in a burst costs only the time it would have saved.
 */
export function createEarlyPurgeFeed({
  url,
  exchange,
  purge,
  maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  reconnectMaxDelayMs,
  logger,
}: EarlyPurgeFeedOptions): InstanceInvalidationFeed {
  let inFlight = 0;
  return new InstanceInvalidationFeed({
    url,
    service: 'order',
    namePrefix: BROKER_NAME_PREFIX,
    queuePrefix: `${BROKER_NAME_PREFIX}.order.purge`,
    ...(exchange === undefined ? {} : { exchange }),
    bindings: UPSTREAM_COPY_BINDINGS,
    ...(reconnectMaxDelayMs === undefined ? {} : { reconnectMaxDelayMs }),
    logger,
    onEvent(event) {
      if (inFlight >= maxInFlight) {
        logger.debug({ eventId: event.id }, 'early purge skipped: too many running');
        return;
      }
      inFlight++;
      // A failure is the durable delivery's to retry; a memcached one is logged and counted by the cache.
      purge(event)
        .catch((err: unknown) => logger.debug({ eventId: event.id, err }, 'early purge failed'))
        .finally(() => inFlight--);
    },
  });
}
