import { UnpriceableOrderError } from './errors';
import type { OrderFailure, OrderStore, StockReservation, StockReservations, StoredOrder } from './order';
import { priceLines } from './order-pricing';

export interface SettleOrderDeps {
  stock: StockReservations;
  orders: OrderStore;
}

/** The failure of an order whose reservation catalog released before it was confirmed. */
export const RESERVATION_RELEASED_FAILURE: OrderFailure = {
  status: 409,
  code: 'reservation_released',
  message: 'the stock reservation of this order expired or was released before it was confirmed',
};

/**
 * Takes one order a step towards its end, with catalog's word as the truth:
 * - pending: confirm its reservation (a reservation catalog never saw is refused for good, so
 *   a reserve still on its way cannot take stock later), then mark it confirmed at the
 *   reservation's prices, or failed when catalog released it;
 * - failed with stock still held: release the reservation (catalog does that at most once).
 * Safe to run any number of times and from several processes: catalog's calls are idempotent
 * by reference and the order's changes are conditional on `pending`. A confirmation that
 * loses to a failure recorded meanwhile is undone by the release that the failure schedules.
 * Throws (DependencyUnavailableError, a database error) when a step could not be taken: the
 * caller retries later.
 */
export async function settleOrder(deps: SettleOrderDeps, order: StoredOrder): Promise<StoredOrder> {
  if (order.status === 'failed') {
    if (!order.stockReleased) {
      await deps.stock.release(order.reservationReference);
      await deps.orders.markStockReleased(order.id);
    }
    return order;
  }
  if (order.status !== 'pending') return order;
  const reservation = await deps.stock.confirm(order.reservationReference);
  return recordConfirmation(deps, order, reservation);
}

/**
 * The order after catalog answered a confirmation: confirmed at the reservation's prices, or
 * failed. An order that cannot be priced at the reservation's prices fails, and its stock is
 * given back (now, or by the settler if catalog does not answer).
 */
export async function recordConfirmation(
  deps: SettleOrderDeps,
  order: StoredOrder,
  reservation: StockReservation,
): Promise<StoredOrder> {
  if (reservation.status === 'released') {
    return deps.orders.markFailed(order.id, RESERVATION_RELEASED_FAILURE, true);
  }
  const reserved = new Map(reservation.items.map((line) => [line.productId, line]));
  let priced;
  try {
    priced = priceLines(order.items, (id) => {
      const line = reserved.get(id);
      const stored = order.items.find((item) => item.productId === id)!;
      return line?.priceCents === undefined
        ? { priceCents: stored.unitPriceCents, currency: order.currency }
        : { priceCents: line.priceCents, currency: line.currency ?? order.currency };
    });
  } catch (err) {
    if (!(err instanceof UnpriceableOrderError)) throw err;
    const failed = await deps.orders.markFailed(
      order.id,
      { status: 422, code: 'unpriceable_order', message: err.message },
      false,
    );
    await releaseNowOrLater(deps, failed);
    return failed;
  }
  const after = await deps.orders.markConfirmed(order.id, priced);
  // Failed by another step meanwhile: that failure's release (now or by the settler) wins.
  if (after.status === 'failed') await releaseNowOrLater(deps, after);
  return after;
}

/** Gives the stock back now if catalog answers; otherwise the settler retries it. */
export async function releaseNowOrLater(deps: SettleOrderDeps, order: StoredOrder): Promise<void> {
  if (order.stockReleased) return;
  try {
    await deps.stock.release(order.reservationReference);
    await deps.orders.markStockReleased(order.id);
  } catch {
    // The order is failed with stockReleased false: the settler takes it from here.
  }
}
