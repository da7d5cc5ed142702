import type { InvalidationEvent } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';
import type { UserCache } from '../data/user-cache';
import type { UserRepository } from '../data/user-repository';

/** Cache writes of the handler are confirmed: one that did not land throws and the event is redelivered. */
const CONFIRM = { confirm: true } as const;

/** Routing keys the user service's queue is bound to: its own events. */
export const USER_EVENT_BINDINGS = ['user.#'];

/**
 * The user service consumes its own events: the writing instance fixed its entry right after
 * the commit, and this repeats it for an instance that died in between. Idempotent.
 */
export function createUserEventHandler({
  repository,
  cache,
  logger,
}: {
  repository: Pick<UserRepository, 'findUser'>;
  cache: UserCache;
  logger: Logger;
}) {
  return async function handleUserEvent(event: InvalidationEvent): Promise<void> {
    if (event.source !== 'user' || event.entity !== 'user') return;
    const id = Number(event.entityId);
    if (!Number.isInteger(id) || id < 1) {
      logger.warn({ eventId: event.id, entityId: event.entityId }, 'user event with a bad id ignored');
      return;
    }
    if (event.action !== 'updated') {
      await cache.purgeUser(id, CONFIRM);
      return;
    }
    // Usually the writer's write-through (or a read after the commit) already holds this
    // version: one get instead of a Postgres read and a CAS write per event.
    const cachedVersion = await cache.cachedUserVersion(id);
    if (event.version !== undefined && cachedVersion !== undefined && cachedVersion >= event.version) return;
    // Refresh rather than purge, so the write-through value survives its own event; the
    // versioned write keeps whichever is newer. Without the database, purging is always safe.
    let user;
    try {
      user = await repository.findUser(id);
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message }, eventId: event.id }, 'refresh failed, purging');
      await cache.purgeUser(id, CONFIRM);
      return;
    }
    if (user) await cache.writeUser(user, CONFIRM);
    else await cache.purgeUser(id, CONFIRM);
  };
}
