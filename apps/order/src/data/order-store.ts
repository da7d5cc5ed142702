import type { Cache, OutboxRelay } from '@memshop/cache';
import type { NewOrder, OrderStore, Read, StoredOrder } from '../domain/order';
import type { OrderCacheKeys } from './cache-keys';
import type { OrderRepository } from './order-repository';
import { isStoredOrder, ORDER_TTL_SECONDS } from './summaries';

/**
 * Orders cache-aside over the repository. A placed order never changes (no endpoint edits
 * one), so its entry needs no invalidation event; creating one purges its key because a
 * lookup of that id before it existed may have cached a negative entry.
 */
export class CachedOrderStore implements OrderStore {
  constructor(
    private readonly cache: Cache,
    private readonly repository: OrderRepository,
    private readonly keys: OrderCacheKeys,
    private readonly relay?: Pick<OutboxRelay, 'kick'>,
  ) {}

  async create(order: NewOrder): Promise<StoredOrder> {
    const stored = await this.repository.create(order);
    await this.cache.invalidate(this.keys.order(stored.id));
    this.relay?.kick();
    return stored;
  }

  async findById(id: number): Promise<Read<StoredOrder | null>> {
    const result = await this.cache.getOrLoad<StoredOrder>(
      this.keys.order(id),
      () => this.repository.findById(id),
      {
        namespace: 'order',
        ttlSeconds: ORDER_TTL_SECONDS,
        validate: isStoredOrder,
      },
    );
    return { value: result.value, status: result.status };
  }

  listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]> {
    return this.repository.listByUser(userId, page);
  }
}
