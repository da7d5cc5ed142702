import type { InvalidationEvent } from '@memshop/cache';
import { withTransactionRetry } from '@memshop/service-kit';
import type { Prisma, PrismaClient } from '../prisma/generated/client';
import { ReservationMismatchError, ReservationReleasedError } from '../domain/errors';
import type { Product, StockItem } from '../domain/product';
import {
  parseReservedItems,
  type ReservationStatus,
  type ReservedItem,
  type StockReservation,
} from '../domain/stock-reservation';
import {
  adjustStockRows,
  lockExistingProducts,
  lockProducts,
  mergeQuantities,
  setStockLockTimeout,
  STOCK_TRANSACTION_OPTIONS,
} from './stock-rows';

type Tx = Prisma.TransactionClient;

interface ReservationRow {
  reference: string;
  status: ReservationStatus;
  items: unknown;
  expires_at: Date;
}

function toReservation(row: ReservationRow): StockReservation {
  return {
    reference: row.reference,
    status: row.status,
    items: parseReservedItems(row.items),
    expiresAt: row.expires_at.toISOString(),
  };
}

/** What a reservation write returns: the record, and the stock change it made (if any). */
export interface ReservationWrite {
  reservation: StockReservation;
  /** Products whose stock this call changed (empty for a replay or a confirmation). */
  products: Product[];
  events: InvalidationEvent[];
}

/**
 * Stock reservations as records, one per reference. Every transaction takes its locks in the
 * order reservation row, product rows (id order), stock rows; a second call with the same
 * reference waits on the first one's row and then answers from it, so any number of retries
 * of a reference take the stock at most once.
 */
export class ReservationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Takes the stock of every item, or none (InsufficientStockError, and no record is left: the
   * same reference may try again). A reference seen before answers from its record; if it was
   * released (or refused before it arrived) that is ReservationReleasedError.
   */
  reserve(reference: string, items: StockItem[], ttlSeconds: number): Promise<ReservationWrite> {
    const merged = mergeQuantities(items);
    return this.#transaction(async (tx) => {
      const inserted = await tx.$queryRaw<Array<{ reference: string }>>`
        INSERT INTO stock_reservations (reference, status, items, expires_at, updated_at)
        VALUES (${reference}, 'active', '[]'::jsonb, now() + ${ttlSeconds}::int * interval '1 second', now())
        ON CONFLICT (reference) DO NOTHING
        RETURNING reference`;
      if (inserted.length === 0) {
        const existing = await this.#lockRow(tx, reference);
        if (existing.status === 'released') throw new ReservationReleasedError(reference);
        if (!sameQuantities(existing.items, merged)) throw new ReservationMismatchError(reference);
        return { reservation: existing, products: [], events: [] };
      }
      await lockProducts(tx, [...merged.keys()]);
      const { products, events } = await adjustStockRows(tx, merged, -1);
      const byId = new Map(products.map((p) => [p.id, p]));
      const reserved: ReservedItem[] = [...merged].map(([productId, quantity]) => {
        const { priceCents, currency } = byId.get(productId)!;
        return { productId, quantity, priceCents, currency };
      });
      const rows = await tx.$queryRaw<ReservationRow[]>`
        UPDATE stock_reservations SET items = ${JSON.stringify(reserved)}::jsonb, updated_at = now()
        WHERE reference = ${reference}
        RETURNING reference, status, items, expires_at`;
      return { reservation: toReservation(rows[0]!), products, events };
    });
  }

  /**
   * Makes the reservation final: the stock stays taken and the sweeper no longer touches it.
   * Confirming twice is one confirmation; a released (or never made) reservation is returned as
   * released, and from then on its reference cannot be reserved.
   */
  confirm(reference: string): Promise<StockReservation> {
    return this.#transaction(async (tx) => {
      await this.#insertTombstone(tx, reference);
      const row = await this.#lockRow(tx, reference);
      // A released row is returned, not thrown: the tombstone above must commit.
      if (row.status !== 'active') return row;
      return this.#setStatus(tx, reference, 'confirmed');
    });
  }

  /**
   * Gives the stock of the reservation back, active or confirmed (an order that failed after
   * its confirmation). Releasing twice is one release; a reference never reserved is recorded
   * as released, so a reservation that arrives later is refused instead of taking stock nobody
   * will confirm.
   */
  release(reference: string): Promise<ReservationWrite> {
    return this.#transaction(async (tx) => {
      await this.#insertTombstone(tx, reference);
      const row = await this.#lockRow(tx, reference);
      if (row.status === 'released') return { reservation: row, products: [], events: [] };
      return this.#giveBack(tx, row);
    });
  }

  /**
   * Releases one active reservation past its expiry, or returns null when there is none left.
   * SKIP LOCKED: several catalog instances sweep at once, each takes a row no other holds,
   * and a reservation being confirmed right now is not waited for (its confirmation wins).
   */
  releaseOneExpired(): Promise<ReservationWrite | null> {
    return this.#transaction(async (tx) => {
      await setStockLockTimeout(tx);
      const rows = await tx.$queryRaw<ReservationRow[]>`
        SELECT reference, status, items, expires_at FROM stock_reservations
        WHERE status = 'active' AND expires_at <= now()
        ORDER BY expires_at LIMIT 1
        FOR UPDATE SKIP LOCKED`;
      return rows[0] ? this.#giveBack(tx, toReservation(rows[0])) : null;
    });
  }

  async find(reference: string): Promise<StockReservation | null> {
    const rows = await this.prisma.$queryRaw<ReservationRow[]>`
      SELECT reference, status, items, expires_at FROM stock_reservations WHERE reference = ${reference}`;
    return rows[0] ? toReservation(rows[0]) : null;
  }

  async #giveBack(tx: Tx, row: StockReservation): Promise<ReservationWrite> {
    let products: Product[] = [];
    let events: InvalidationEvent[] = [];
    const merged = mergeQuantities(row.items);
    // A product deleted since the reservation took its units with it: the rest still go back,
    // and the reservation is released all the same (else it would block every later sweep).
    const existing = await lockExistingProducts(tx, [...merged.keys()]);
    for (const productId of merged.keys()) if (!existing.has(productId)) merged.delete(productId);
    if (merged.size > 0) ({ products, events } = await adjustStockRows(tx, merged, 1));
    return { reservation: await this.#setStatus(tx, row.reference, 'released'), products, events };
  }

  #transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransactionRetry(() =>
      this.prisma.$transaction(async (tx) => {
        await setStockLockTimeout(tx);
        return work(tx);
      }, STOCK_TRANSACTION_OPTIONS),
    );
  }

  async #insertTombstone(tx: Tx, reference: string): Promise<void> {
    await tx.$executeRaw`
      INSERT INTO stock_reservations (reference, status, items, expires_at, updated_at)
      VALUES (${reference}, 'released', '[]'::jsonb, now(), now())
      ON CONFLICT (reference) DO NOTHING`;
  }

  async #lockRow(tx: Tx, reference: string): Promise<StockReservation> {
    const rows = await tx.$queryRaw<ReservationRow[]>`
      SELECT reference, status, items, expires_at FROM stock_reservations
      WHERE reference = ${reference} FOR UPDATE`;
    // Callers insert the row (or found it taken) in this transaction: it exists.
    return toReservation(rows[0]!);
  }

  async #setStatus(tx: Tx, reference: string, status: ReservationStatus): Promise<StockReservation> {
    const rows = await tx.$queryRaw<ReservationRow[]>`
      UPDATE stock_reservations SET status = ${status}::"ReservationStatus", updated_at = now()
      WHERE reference = ${reference}
      RETURNING reference, status, items, expires_at`;
    return toReservation(rows[0]!);
  }
}

function sameQuantities(items: ReservedItem[], merged: Map<number, number>): boolean {
  return items.length === merged.size && items.every((item) => merged.get(item.productId) === item.quantity);
}
