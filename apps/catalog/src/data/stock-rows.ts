import { enqueueOutboxEvent, type InvalidationEvent } from '@memshop/cache';
import { OUTBOX_TABLE } from '@memshop/service-kit';
import { Prisma } from '../prisma/generated/client';
import { InsufficientStockError, ProductNotFoundError } from '../domain/errors';
import type { Product } from '../domain/product';
import { productInclude, toProduct } from './product-rows';

type Tx = Prisma.TransactionClient;

/**
 * How long a stock write waits for a row another transaction holds before it gives up (55P03,
 * answered 503 `database_busy`). Below Prisma's 5 s interactive-transaction timeout, so the
 * request is answered by this bound and not by a transaction that expired under it.
 */
export const STOCK_LOCK_TIMEOUT_MS = 4000;

/**
 * Interactive-transaction options of stock writes. A burst of orders on one product queues for
 * the pool's connections: waiting up to 10 s for one (Prisma's default is 2 s, then a 503)
 * turns a burst into latency instead of refusals; the transaction itself is bounded by the lock
 * timeout plus the few statements around it.
 */
export const STOCK_TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: STOCK_LOCK_TIMEOUT_MS + 2000 };

export async function setStockLockTimeout(tx: Tx): Promise<void> {
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${STOCK_LOCK_TIMEOUT_MS}`);
}

/**
 * The one lock order of the catalog: product rows first, in id order, then their stock rows.
 * Every transaction that writes stock (reservations, releases, the sweeper, PATCH /products)
 * goes through here first, so two of them can wait for each other but never in a cycle.
 * FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes anyway: it does not block the
 * foreign-key checks (FOR KEY SHARE) of product_views inserts.
 */
export async function lockProducts(tx: Tx, ids: number[]): Promise<void> {
  const found = await lockExistingProducts(tx, ids);
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw new ProductNotFoundError(missing);
}

/** lockProducts for the ids that still exist; returns them (a deleted product is skipped). */
export async function lockExistingProducts(tx: Tx, ids: number[]): Promise<Set<number>> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const rows = await tx.$queryRaw<Array<{ id: number }>>`
    SELECT id FROM products WHERE id = ANY(${sorted}::int[]) ORDER BY id FOR NO KEY UPDATE`;
  return new Set(rows.map((row) => row.id));
}

/** Sums the quantities per product (a line may repeat a product). */
export function mergeQuantities(items: Array<{ productId: number; quantity: number }>): Map<number, number> {
  const merged = new Map<number, number>();
  for (const item of items) merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
  return merged;
}

/**
 * Adds `sign * quantity` to each product's stock, all or nothing, on products already locked by
 * lockProducts. A decrement never takes stock below zero: the conditional UPDATE is the check,
 * so two concurrent orders cannot both take the last unit. The products returned are read after
 * the version bump, so their prices are the ones in force when the stock was taken.
 */
export async function adjustStockRows(
  tx: Tx,
  merged: Map<number, number>,
  sign: 1 | -1,
): Promise<{ products: Product[]; events: InvalidationEvent[] }> {
  const ids = [...merged.keys()].sort((a, b) => a - b);
  const shortages: Array<{ productId: number; requested: number; available: number }> = [];
  for (const productId of ids) {
    const quantity = merged.get(productId)!;
    const { count } =
      sign < 0
        ? await tx.stock.updateMany({
            where: { productId, quantity: { gte: quantity } },
            data: { quantity: { decrement: quantity } },
          })
        : await tx.stock.updateMany({
            where: { productId },
            data: { quantity: { increment: quantity } },
          });
    if (count === 1) continue;
    const current = await tx.stock.findUnique({ where: { productId }, select: { quantity: true } });
    if (!current) throw new ProductNotFoundError(productId);
    shortages.push({ productId, requested: quantity, available: current.quantity });
  }
  if (shortages.length > 0) throw new InsufficientStockError(shortages);
  await tx.product.updateMany({ where: { id: { in: ids } }, data: { version: { increment: 1 } } });
  const rows = await tx.product.findMany({
    where: { id: { in: ids } },
    include: productInclude,
    orderBy: { id: 'asc' },
  });
  // Own routing key (catalog.stock.updated): only the catalog's product entries carry stock,
  // so order-service, bound to catalog.product.*, keeps its copies through every order.
  const events: InvalidationEvent[] = [];
  for (const row of rows) {
    events.push(
      await enqueueOutboxEvent(
        tx,
        {
          source: 'catalog',
          entity: 'stock',
          action: 'updated',
          entityId: String(row.id),
          version: row.version,
        },
        { table: OUTBOX_TABLE },
      ),
    );
  }
  return { products: rows.map(toProduct), events };
}
