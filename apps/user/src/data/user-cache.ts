import { keySpace, type Cache, type CacheJsonResult, type CacheStatus } from '@memshop/cache';
import type { ReadDeadline } from '@memshop/service-kit';
import { isUser, type User } from '../domain/user';

const USER_TTL_SECONDS = 300;

export interface Cached<T> {
  value: T | null;
  status: CacheStatus;
}

/** The user service's cache-aside wiring: keys (with the schema version) and lifetimes in one place. */
export class UserCache {
  readonly #cache: Cache;
  readonly #users;

  constructor({ cache, schemaVersion }: { cache: Cache; schemaVersion: number }) {
    this.#cache = cache;
    this.#users = keySpace({ prefix: 'user', entity: 'user', schemaVersion });
  }

  userKey(id: number): string {
    return this.#users.key(String(id));
  }

  /** Unknown ids come back as null and are cached briefly (negative caching). */
  getUser(
    id: number,
    load: () => Promise<User | null>,
    { deadline }: ReadDeadline = {},
  ): Promise<Cached<User>> {
    return this.#cache.getOrLoad(this.userKey(id), load, {
      deadline,
      entity: 'user',
      ttlSeconds: USER_TTL_SECONDS,
      validate: isUser,
      // Recorded on populate: a delayed write-through of an older version never replaces it,
      // and the event consumer can tell the entry is current.
      versionOf: userVersion,
    });
  }

  /** getUser as JSON bytes for the HTTP response: a hit is the stored bytes, not parsed again. */
  getUserJson(
    id: number,
    load: () => Promise<User | null>,
    { deadline }: ReadDeadline = {},
  ): Promise<CacheJsonResult> {
    return this.#cache.getOrLoadJson(this.userKey(id), load, {
      deadline,
      entity: 'user',
      ttlSeconds: USER_TTL_SECONDS,
      validate: isUser,
      versionOf: userVersion,
    });
  }

  /** Write-through: the committed user replaces the entry unless a newer version is there. */
  writeUser(user: User, opts: { confirm?: boolean } = {}): Promise<void> {
    return this.#cache.writeThrough(this.userKey(user.id), user, {
      version: user.version,
      ttlSeconds: USER_TTL_SECONDS,
      entity: 'user',
      confirm: opts.confirm,
    });
  }

  /**
   * The version of the user cached under `id`, or undefined when there is no user there
   * (nothing, a "not found", a lease, a corrupt entry, or memcached did not answer). One get:
   * no lease, no load, not counted as a read.
   */
  cachedUserVersion(id: number): Promise<number | undefined> {
    return this.#cache.cachedVersion(this.userKey(id));
  }

  /** `confirm` (event consumers): rejects when the delete did not reach memcached. */
  purgeUser(id: number, opts: { confirm?: boolean } = {}): Promise<void> {
    return this.#cache.invalidate(this.userKey(id), opts);
  }
}

const userVersion = (user: User): number => user.version;
