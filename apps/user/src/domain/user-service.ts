import type { InvalidationEvent } from '@memshop/cache';
import type { CacheStatus } from '@memshop/cache';
import type { ReadDeadline } from '@memshop/service-kit';
import type { UserCache } from '../data/user-cache';
import type { UserRepository } from '../data/user-repository';
import type { NewUser, User, UserChanges } from './user';

export interface UserServiceDeps {
  repository: UserRepository;
  cache: UserCache;
  /** Called with the committed event once this service's own entry is fixed: publish it now (OutboxRelay.kick). */
  afterCommit: (events: InvalidationEvent[]) => void;
  /**
   * Other services' copies of the user a write changed (DownstreamCopies.purge), deleted once
   * this service's own entry is fixed; never rejects. Optional.
   */
  purgeUserCopies?: (ids: number[]) => Promise<void>;
}

/**
 * What the user service does. Reads go through the cache; writes commit (rows + outbox event in
 * one transaction), then fix this service's own entry at once; the event repeats the fix if
 * this instance dies in between. A write then deletes the other services' copies it was told of
 * (purgeUserCopies), so they are gone before it answers; the event reaches them too.
 */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  /** null for an unknown id (the absence is cached too, hence the status). */
  async getUser(
    id: number,
    opts: ReadDeadline = {},
  ): Promise<{ value: User | null; cacheStatus: CacheStatus }> {
    const { value, status } = await this.deps.cache.getUser(
      id,
      () => this.deps.repository.findUser(id),
      opts,
    );
    return { value, cacheStatus: status };
  }

  /** getUser as the user's JSON text (null: not found), for a response that sends it as is. */
  async getUserJson(
    id: number,
    opts: ReadDeadline = {},
  ): Promise<{ json: Buffer | null; cacheStatus: CacheStatus }> {
    const { json, status } = await this.deps.cache.getUserJson(
      id,
      () => this.deps.repository.findUser(id),
      opts,
    );
    return { json, cacheStatus: status };
  }

  /**
   * Users read from the database, never from the cache: what other services' auditors compare
   * their copies with. Read through the cache, a stale entry here would make a copy just as stale
   * there look fresh.
   */
  async getUsersFromSource(ids: number[]): Promise<{ users: User[]; missing: number[] }> {
    const found = await this.deps.repository.findUsers(ids);
    return {
      users: ids.flatMap((id) => found.get(id) ?? []),
      missing: ids.filter((id) => !found.has(id)),
    };
  }

  async createUser(input: NewUser): Promise<User> {
    const { user, event } = await this.deps.repository.createUser(input);
    // The id may sit in the cache as "not found" (negative caching): purge it.
    await this.deps.cache.purgeUser(user.id);
    // Publish after fixing this service's own entry, so a consumer that refetches finds the new row.
    this.deps.afterCommit([event]);
    await this.deps.purgeUserCopies?.([user.id]);
    return user;
  }

  async updateUser(id: number, changes: UserChanges): Promise<User> {
    const { user, event } = await this.deps.repository.updateUser(id, changes);
    await this.deps.cache.writeUser(user);
    this.deps.afterCommit([event]);
    await this.deps.purgeUserCopies?.([id]);
    return user;
  }

  async deleteUser(id: number): Promise<void> {
    const { event } = await this.deps.repository.deleteUser(id);
    await this.deps.cache.purgeUser(id);
    this.deps.afterCommit([event]);
    await this.deps.purgeUserCopies?.([id]);
  }
}
