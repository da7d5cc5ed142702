import type { ReadDeadline } from '@memshop/service-kit';
import type { Cache, OutboxRelay } from '@memshop/cache';
import type { NewOrder, OrderFailure, OrderStore, PricedLines, Read, StoredOrder } from '../domain/order';
import type { OrderCacheKeys } from './cache-keys';
import type { OrderRepository } from './order-repository';
import { isStoredOrder, ORDER_TTL_SECONDS } from './summaries';

/**
 * Orders cache-aside over the repository. Every status change writes the order through with
 * its new version: a read that loaded the old status before the change cannot land after it
 * (the write revokes its lease), so a client polling GET /orders/:id sees pending, then the
 * outcome, never the other way round. Creating one purges its key because a lookup of that
 * id before it existed may have cached a negative entry.
 */
export class CachedOrderStore implements OrderStore {
  constructor(
    private readonly cache: Cache,
    private readonly repository: OrderRepository,
    private readonly keys: OrderCacheKeys,
    private readonly relay?: Pick<OutboxRelay, 'kick'>,
  ) {}

  async createPending(order: NewOrder): Promise<{ order: StoredOrder; created: boolean }> {
    const result = await this.repository.createPending(order);
    if (result.created) {
      await this.cache.invalidate(this.keys.order(result.order.id));
      this.relay?.kick();
    }
    return result;
  }

  async markConfirmed(id: number, priced: PricedLines): Promise<StoredOrder> {
    return this.#written(await this.repository.markConfirmed(id, priced));
  }

  async markFailed(id: number, failure: OrderFailure, stockReleased: boolean): Promise<StoredOrder> {
    return this.#written(await this.repository.markFailed(id, failure, stockReleased));
  }

  async discardPending(id: number): Promise<void> {
    await this.repository.discardPending(id);
    await this.cache.invalidate(this.keys.order(id));
    this.relay?.kick();
  }

  markStockReleased(id: number): Promise<void> {
    // Not shown by the order view: nothing cached changes.
    return this.repository.markStockReleased(id);
  }

  claimUnsettled(limit: number): Promise<StoredOrder[]> {
    return this.repository.claimUnsettled(limit);
  }

  async findById(id: number, { deadline }: ReadDeadline = {}): Promise<Read<StoredOrder | null>> {
    const result = await this.cache.getOrLoad<StoredOrder>(
      this.keys.order(id),
      () => this.repository.findById(id),
      {
        deadline,
        entity: 'order',
        ttlSeconds: ORDER_TTL_SECONDS,
        validate: isStoredOrder,
        versionOf: (order) => order.version,
      },
    );
    return { value: result.value, status: result.status };
  }

  findFresh(id: number): Promise<StoredOrder | null> {
    return this.repository.findById(id);
  }

  findByIdempotencyKey(userId: number, key: string): Promise<StoredOrder | null> {
    return this.repository.findByIdempotencyKey(userId, key);
  }

  listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]> {
    return this.repository.listByUser(userId, page);
  }

  async #written(order: StoredOrder): Promise<StoredOrder> {
    await this.cache.writeThrough(this.keys.order(order.id), order, {
      version: order.version,
      entity: 'order',
      ttlSeconds: ORDER_TTL_SECONDS,
    });
    this.relay?.kick();
    return order;
  }
}
