import { enqueueOutboxEvent } from '@memshop/cache';
import type { NewOrder, StoredOrder } from '../domain/order';
import type { PrismaClient } from '../prisma/generated/client';

type OrderRow = {
  id: number;
  userId: number;
  status: 'confirmed' | 'cancelled';
  currency: string;
  totalCents: number;
  createdAt: Date;
  items: Array<{ productId: number; quantity: number; unitPriceCents: number }>;
};

const itemsInOrder = { orderBy: { productId: 'asc' as const } };

function toStoredOrder(row: OrderRow): StoredOrder {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    currency: row.currency,
    totalCents: row.totalCents,
    createdAt: row.createdAt.toISOString(),
    items: row.items.map((item) => ({
      productId: item.productId,
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
    })),
  };
}

/** Orders in order-service's own Postgres database. */
export class OrderRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Inserts the order and its `order.order.created` event in one transaction (outbox), so
   * whoever listens learns about every committed order and about no other.
   */
  async create(order: NewOrder): Promise<StoredOrder> {
    return this.prisma.$transaction(async (tx) => {
      const row = await tx.order.create({
        data: {
          userId: order.userId,
          currency: order.currency,
          totalCents: order.totalCents,
          items: { create: order.items },
        },
        include: { items: itemsInOrder },
      });
      await enqueueOutboxEvent(tx, {
        source: 'order',
        entity: 'order',
        action: 'created',
        entityId: String(row.id),
        version: 1,
      });
      return toStoredOrder(row);
    });
  }

  async findById(id: number): Promise<StoredOrder | null> {
    const row = await this.prisma.order.findUnique({ where: { id }, include: { items: itemsInOrder } });
    return row && toStoredOrder(row);
  }

  async listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]> {
    const rows = await this.prisma.order.findMany({
      where: { userId, ...(page.beforeId ? { id: { lt: page.beforeId } } : {}) },
      orderBy: { id: 'desc' },
      take: page.limit,
      include: { items: itemsInOrder },
    });
    return rows.map(toStoredOrder);
  }
}
