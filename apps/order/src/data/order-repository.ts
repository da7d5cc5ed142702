import { enqueueOutboxEvent } from '@memshop/cache';
import { OUTBOX_TABLE, withTransactionRetry } from '@memshop/service-kit';
import type { NewOrder, OrderFailure, PricedLines, StoredOrder } from '../domain/order';
import { Prisma, type PrismaClient } from '../prisma/generated/client';

type Tx = Prisma.TransactionClient;

const withItems = { items: { orderBy: { productId: 'asc' as const } } } as const;
type OrderRow = Prisma.OrderGetPayload<{ include: typeof withItems }>;

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
    version: row.version,
    reservationReference: row.reservationReference,
    failure: (row.failure as OrderFailure | null) ?? null,
    stockReleased: row.stockReleasedAt !== null,
    requestHash: row.requestHash,
  };
}

/**
 * A burst of orders queues for the pool's connections (up to 10 s, Prisma's default is 2 s and
 * then a 503) instead of being refused while the database is healthy.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 10_000 };

export interface OrderRepositoryOptions {
  /**
   * A new pending order is left to the request that saved it for this long before the settler
   * looks at it (the request's own reservation and confirmation calls must be over by then).
   */
  settleDelayMs: number;
  /** First retry delay of the settler; doubled per attempt, at most 60 s. */
  settleRetryMs: number;
}

/**
 * Orders in order-service's own Postgres database. Every status change is a conditional update
 * from `pending` in one transaction with its `order.order.*` outbox event: whichever step gets
 * there first decides the order, and whoever listens learns about every committed change.
 */
export class OrderRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly opts: OrderRepositoryOptions,
  ) {}

  async createPending(order: NewOrder): Promise<{ order: StoredOrder; created: boolean }> {
    try {
      const created = await this.prisma.$transaction(async (tx) => {
        const row = await tx.order.create({
          data: {
            userId: order.userId,
            status: 'pending',
            currency: order.currency,
            totalCents: order.totalCents,
            reservationReference: order.reservationReference,
            idempotencyKey: order.idempotencyKey ?? null,
            requestHash: order.requestHash ?? null,
            settleAfter: new Date(Date.now() + this.opts.settleDelayMs),
            items: { create: order.items },
          },
          include: withItems,
        });
        await this.#enqueue(tx, 'created', row);
        return toStoredOrder(row);
      }, TRANSACTION_OPTIONS);
      return { order: created, created: true };
    } catch (err) {
      // A concurrent request with the same Idempotency-Key committed first: that is the order.
      if (order.idempotencyKey && isUniqueViolation(err)) {
        const existing = await this.findByIdempotencyKey(order.userId, order.idempotencyKey);
        if (existing) return { order: existing, created: false };
      }
      throw err;
    }
  }

  markConfirmed(id: number, priced: PricedLines): Promise<StoredOrder> {
    return this.#transition(id, async (tx) => {
      for (const item of priced.items) {
        await tx.orderItem.update({
          where: { orderId_productId: { orderId: id, productId: item.productId } },
          data: { unitPriceCents: item.unitPriceCents },
        });
      }
      return { status: 'confirmed', totalCents: priced.totalCents, currency: priced.currency };
    });
  }

  markFailed(id: number, failure: OrderFailure, stockReleased: boolean): Promise<StoredOrder> {
    return this.#transition(id, async () => ({
      status: 'failed',
      failure: failure as unknown as Prisma.InputJsonValue,
      stockReleasedAt: stockReleased ? new Date() : null,
      // The settler gives the stock back from now on if this step did not.
      settleAfter: new Date(),
      settleAttempts: 0,
    }));
  }

  async discardPending(id: number): Promise<void> {
    await withTransactionRetry(() =>
      this.prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<Array<{ version: number }>>`
          DELETE FROM orders WHERE id = ${id} AND status = 'pending' RETURNING version`;
        if (rows[0]) {
          await enqueueOutboxEvent(
            tx,
            {
              source: 'order',
              entity: 'order',
              action: 'deleted',
              entityId: String(id),
              version: rows[0].version + 1,
            },
            { table: OUTBOX_TABLE },
          );
        }
      }, TRANSACTION_OPTIONS),
    );
  }

  async markStockReleased(id: number): Promise<void> {
    await this.prisma.order.updateMany({
      where: { id, status: 'failed', stockReleasedAt: null },
      data: { stockReleasedAt: new Date() },
    });
  }

  /**
   * Claims up to `limit` orders with a step left. SKIP LOCKED so several order-service
   * instances share the work; the claim itself is the backoff (the next turn moves out).
   */
  async claimUnsettled(limit: number): Promise<StoredOrder[]> {
    const claimed = await this.prisma.$queryRaw<Array<{ id: number }>>`
      UPDATE orders SET
        settle_attempts = settle_attempts + 1,
        settle_after = now() + LEAST(
          ${this.opts.settleRetryMs}::int * power(2, LEAST(settle_attempts, 12)) * interval '1 millisecond',
          interval '60 seconds')
      WHERE id IN (
        SELECT id FROM orders
        WHERE (status = 'pending' OR (status = 'failed' AND stock_released_at IS NULL))
          AND settle_after <= now()
        ORDER BY settle_after LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    if (claimed.length === 0) return [];
    const rows = await this.prisma.order.findMany({
      where: { id: { in: claimed.map((c) => c.id) } },
      include: withItems,
      orderBy: { id: 'asc' },
    });
    return rows.map(toStoredOrder);
  }

  async findById(id: number): Promise<StoredOrder | null> {
    const row = await this.prisma.order.findUnique({ where: { id }, include: withItems });
    return row && toStoredOrder(row);
  }

  async findByIdempotencyKey(userId: number, key: string): Promise<StoredOrder | null> {
    const row = await this.prisma.order.findUnique({
      where: { userId_idempotencyKey: { userId, idempotencyKey: key } },
      include: withItems,
    });
    return row && toStoredOrder(row);
  }

  async listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]> {
    const rows = await this.prisma.order.findMany({
      where: { userId, ...(page.beforeId ? { id: { lt: page.beforeId } } : {}) },
      orderBy: { id: 'desc' },
      take: page.limit,
      include: withItems,
    });
    return rows.map(toStoredOrder);
  }

  /**
   * pending -> another status, only if still pending (row locked, so two steps deciding the
   * same order at once run one after the other and the second sees the first's decision).
   */
  #transition(id: number, change: (tx: Tx) => Promise<Prisma.OrderUpdateInput>): Promise<StoredOrder> {
    return withTransactionRetry(() =>
      this.prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<Array<{ status: string }>>`
          SELECT status::text FROM orders WHERE id = ${id} FOR NO KEY UPDATE`;
        if (locked[0]?.status === 'pending') {
          const data = await change(tx);
          const row = await tx.order.update({
            where: { id },
            data: { ...data, version: { increment: 1 } },
            include: withItems,
          });
          await this.#enqueue(tx, 'updated', row);
          return toStoredOrder(row);
        }
        const row = await tx.order.findUniqueOrThrow({ where: { id }, include: withItems });
        return toStoredOrder(row);
      }, TRANSACTION_OPTIONS),
    );
  }

  #enqueue(tx: Tx, action: 'created' | 'updated', row: OrderRow) {
    return enqueueOutboxEvent(
      tx,
      {
        source: 'order',
        entity: 'order',
        action,
        entityId: String(row.id),
        version: row.version,
      },
      { table: OUTBOX_TABLE },
    );
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
