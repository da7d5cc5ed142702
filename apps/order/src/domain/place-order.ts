import { createHash, randomUUID } from 'node:crypto';
import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  OrderFailedError,
  UnknownProductsError,
  UnknownUserError,
} from './errors';
import type {
  OrderLine,
  OrderStore,
  ProductDirectory,
  ProductSummary,
  StockReservation,
  StockReservations,
  StoredOrder,
  UserDirectory,
} from './order';
import { priceLines } from './order-pricing';
import { composeView, type OrderView } from './order-view';
import { recordConfirmation, RESERVATION_RELEASED_FAILURE } from './settle-order';

export interface PlaceOrderDeps {
  users: UserDirectory;
  products: ProductDirectory;
  stock: StockReservations;
  orders: OrderStore;
  /**
   * How long a request that repeats an Idempotency-Key whose order is still pending waits for
   * that order to settle before it answers 202 with it.
   */
  replayWaitMs?: number;
}

export interface PlaceOrderInput {
  userId: number;
  /** Distinct product ids (api/ rejects duplicates). */
  items: OrderLine[];
  /** The client's Idempotency-Key header. */
  idempotencyKey?: string;
}

/** What POST /orders answers: 201 for a confirmed order, 202 for one still pending. */
export interface PlacedOrder {
  order: OrderView;
  /** false when the Idempotency-Key named an order placed before. */
  created: boolean;
}

const DEFAULT_REPLAY_WAIT_MS = 2000;
const REPLAY_POLL_MS = 50;

/**
 * Places an order as a small state machine whose every step survives a crash:
 * 1. the user and products are checked through order-service's cache, and the order is saved
 *    as `pending` with a fresh reservation reference (and the Idempotency-Key, if any);
 * 2. catalog reserves the stock under that reference (all lines or none);
 * 3. catalog confirms the reservation, and the order becomes `confirmed` at the reservation's
 *    prices; a refusal makes it `failed`.
 * If catalog does not answer in time, the order stays pending and this request answers 202:
 * the settler (OrderSettler) finishes it with the same idempotent calls. A reservation that
 * nobody confirms expires in catalog and its stock comes back.
 */
export async function placeOrder(deps: PlaceOrderDeps, input: PlaceOrderInput): Promise<PlacedOrder> {
  const requestHash = input.idempotencyKey ? hashRequest(input) : undefined;
  if (input.idempotencyKey) {
    const existing = await deps.orders.findByIdempotencyKey(input.userId, input.idempotencyKey);
    if (existing) return replay(deps, existing, requestHash!);
  }

  const productIds = input.items.map((line) => line.productId);
  const [user, products] = await Promise.all([
    deps.users.getUser(input.userId),
    deps.products.getProducts(productIds),
  ]);
  if (!user.value) throw new UnknownUserError(input.userId);
  const summaries = new Map<number, ProductSummary>();
  const unknown: number[] = [];
  for (const id of productIds) {
    const summary = products.get(id)?.value;
    if (summary) summaries.set(id, summary);
    else unknown.push(id);
  }
  if (unknown.length > 0) throw new UnknownProductsError(unknown);
  // Priced from the cache first, so a mixed-currency or overflowing order is refused before
  // anything is saved or reserved; the reservation's prices replace these on confirmation.
  const cached = priceLines(input.items, (id) => summaries.get(id)!);

  const { order: pending, created } = await deps.orders.createPending({
    userId: input.userId,
    ...cached,
    reservationReference: randomUUID(),
    ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey, requestHash } : {}),
  });
  if (!created) return replay(deps, pending, requestHash!);

  const order = await reserveAndConfirm(deps, pending);
  return {
    order: composeView(order, user.value, (id) => summaries.get(id) ?? null),
    created: true,
  };
}

/** Steps 2 and 3. Returns the order pending (catalog did not answer), confirmed, or throws its failure. */
async function reserveAndConfirm(deps: PlaceOrderDeps, pending: StoredOrder): Promise<StoredOrder> {
  let reservation: StockReservation | undefined;
  try {
    reservation = await deps.stock.reserve(pending.items, pending.reservationReference);
    if (reservation.status === 'active') reservation = await deps.stock.confirm(pending.reservationReference);
  } catch (err) {
    if (err instanceof DependencyUnavailableError) {
      // Never reached catalog (or refused by it): there is nothing to settle, and without the
      // order the client may retry, with the same Idempotency-Key too.
      if (err.notApplied && reservation === undefined) {
        await deps.orders.discardPending(pending.id);
        throw err;
      }
      return pending;
    }
    if (err instanceof InsufficientStockError) {
      const failed = await deps.orders.markFailed(
        pending.id,
        { status: 409, code: 'conflict', message: err.message, details: err.details },
        true,
      );
      return outcome(failed);
    }
    if (err instanceof UnknownProductsError) {
      const failed = await deps.orders.markFailed(
        pending.id,
        {
          status: 422,
          code: 'unknown_product',
          message: err.message,
          details: { productIds: err.productIds },
        },
        true,
      );
      return outcome(failed);
    }
    throw err;
  }
  if (reservation.status === 'released') {
    return outcome(await deps.orders.markFailed(pending.id, RESERVATION_RELEASED_FAILURE, true));
  }
  return outcome(await recordConfirmation(deps, pending, reservation));
}

/** The order to answer with, or its failure as an error. */
function outcome(order: StoredOrder): StoredOrder {
  if (order.status === 'failed' && order.failure) throw new OrderFailedError(order.id, order.failure);
  return order;
}

/**
 * The same Idempotency-Key again: the same body gets the first request's answer (waiting a
 * little for an order still pending, which the first request is probably finishing), another
 * body is refused.
 */
async function replay(
  deps: PlaceOrderDeps,
  existing: StoredOrder,
  requestHash: string,
): Promise<PlacedOrder> {
  if (existing.requestHash !== requestHash) throw new IdempotencyKeyReusedError(existing.id);
  let order = existing;
  const deadline = Date.now() + (deps.replayWaitMs ?? DEFAULT_REPLAY_WAIT_MS);
  while (order.status === 'pending' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    order = (await deps.orders.findFresh(order.id)) ?? order;
  }
  outcome(order);
  const [user, products] = await Promise.all([
    deps.users.getUser(order.userId),
    deps.products.getProducts(order.items.map((item) => item.productId)),
  ]);
  return {
    order: composeView(order, user.value, (id) => products.get(id)?.value ?? null),
    created: false,
  };
}

/** The body an Idempotency-Key was first used with, in a form that ignores key and line order. */
function hashRequest(input: PlaceOrderInput): string {
  const items = [...input.items]
    .sort((a, b) => a.productId - b.productId)
    .map(({ productId, quantity }) => [productId, quantity]);
  return createHash('sha256')
    .update(JSON.stringify({ userId: input.userId, items }))
    .digest('hex');
}
