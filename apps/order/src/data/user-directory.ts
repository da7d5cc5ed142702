import type { ReadDeadline } from '@memshop/service-kit';
import type { Cache } from '@memshop/cache';
import type { Read, UserDirectory, UserSummary } from '../domain/order';
import type { OrderCacheKeys } from './cache-keys';
import { isUserSummary, USER_TTL_SECONDS } from './summaries';
import type { UserClient } from './user-client';

/** user-service's users through order-service's cache; purged by user.user.* events (events/). */
export class CachedUserDirectory implements UserDirectory {
  constructor(
    private readonly cache: Cache,
    private readonly users: UserClient,
    private readonly keys: OrderCacheKeys,
  ) {}

  async getUser(id: number, { deadline }: ReadDeadline = {}): Promise<Read<UserSummary | null>> {
    const result = await this.cache.getOrLoad<UserSummary>(this.keys.user(id), () => this.users.getUser(id), {
      deadline,
      entity: 'user',
      ttlSeconds: USER_TTL_SECONDS,
      validate: isUserSummary,
    });
    return { value: result.value, status: result.status };
  }
}
