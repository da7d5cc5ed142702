import { randomUUID } from 'node:crypto';
import { UnknownProductsError, UnknownUserError, UnpriceableOrderError } from './errors';
import type {
  OrderLine,
  OrderStore,
  ProductDirectory,
  ProductSummary,
  StockReservation,
  StockReservations,
  StoredOrder,
  StoredOrderItem,
  UserDirectory,
} from './order';
import { composeView, type OrderView } from './order-view';

export interface PlaceOrderDeps {
  users: UserDirectory;
  products: ProductDirectory;
  stock: StockReservations;
  orders: OrderStore;
  /** Told when a reservation could not be given back (stock stays taken until someone fixes it). */
  onReleaseFailed?: (err: unknown, reference: string) => void;
}

export interface PlaceOrderInput {
  userId: number;
  /** Distinct product ids (api/ rejects duplicates). */
  items: OrderLine[];
}

/** Postgres `integer`: totals and prices are stored as int4 cents. */
const MAX_CENTS = 2_147_483_647;

/**
 * Places an order: the user and the products are checked through order-service's cache of
 * user-service and catalog, catalog takes the stock (all lines or none), then the order is
 * committed with each line's price at that moment. Stock goes first because it is the step that
 * can be refused; if the commit then fails the stock is given back (a compensation, not a
 * distributed transaction: a crash between the two leaves stock taken for no order, the cheaper
 * failure for a shop than an order without stock).
 */
export async function placeOrder(deps: PlaceOrderDeps, input: PlaceOrderInput): Promise<OrderView> {
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

  // Priced once before the reservation too, so a mixed-currency or overflowing order is refused
  // before any stock is taken.
  priceLines(input.items, (id) => summaries.get(id)!);

  const reference = randomUUID();
  const reservation = await deps.stock.reserve(input.items, reference);
  let order: StoredOrder;
  try {
    // catalog's price at reservation time is authoritative; the cached one can lag an update by
    // the time its invalidation event takes, and is never purged by a change made behind
    // catalog's back.
    const reserved = new Map(reservation.items.map((line) => [line.productId, line]));
    const { items, totalCents, currency } = priceLines(input.items, (id) => {
      const line = reserved.get(id);
      const cached = summaries.get(id)!;
      return line?.priceCents === undefined
        ? cached
        : { priceCents: line.priceCents, currency: line.currency ?? cached.currency };
    });
    order = await deps.orders.create({ userId: input.userId, currency, totalCents, items });
  } catch (err) {
    await releaseQuietly(deps, reservation, reference);
    throw err;
  }
  return composeView(order, user.value, (id) => summaries.get(id) ?? null);
}

interface Price {
  priceCents: number;
  currency: string;
}

function priceLines(
  lines: OrderLine[],
  priceOf: (productId: number) => Price,
): { items: StoredOrderItem[]; totalCents: number; currency: string } {
  let totalCents = 0;
  const currencies = new Set<string>();
  const items = lines.map((line) => {
    const { priceCents: unitPriceCents, currency } = priceOf(line.productId);
    currencies.add(currency);
    totalCents += unitPriceCents * line.quantity;
    return { ...line, unitPriceCents };
  });
  if (currencies.size > 1) {
    throw new UnpriceableOrderError(
      `the products are priced in different currencies (${[...currencies].join(', ')})`,
    );
  }
  if (!Number.isSafeInteger(totalCents) || totalCents > MAX_CENTS) {
    throw new UnpriceableOrderError(`the order total exceeds ${MAX_CENTS} cents`);
  }
  return { items, totalCents, currency: [...currencies][0]! };
}

async function releaseQuietly(
  deps: PlaceOrderDeps,
  reservation: StockReservation,
  reference: string,
): Promise<void> {
  try {
    await deps.stock.release(reservation, reference);
  } catch (err) {
    deps.onReleaseFailed?.(err, reference);
  }
}
