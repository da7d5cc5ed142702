import type { ReadDeadline } from '@memshop/service-kit';
import { UserNotFoundError } from './errors';
import type {
  OrderStatus,
  OrderStore,
  ProductDirectory,
  ReadStatus,
  StoredOrder,
  UserDirectory,
} from './order';

export interface OrderViewDeps {
  users: UserDirectory;
  products: ProductDirectory;
  orders: OrderStore;
}

/** The order as GET /orders/:id shows it (README "The API"). */
export interface OrderView {
  id: number;
  userId: number;
  status: OrderStatus;
  currency: string;
  totalCents: number;
  createdAt: string;
  /** Why a failed order failed (absent otherwise). */
  failure?: { code: string; message: string };
  /** The user as user-service has it now; null once the user is deleted. */
  user: { id: number; name: string } | null;
  items: Array<{
    productId: number;
    quantity: number;
    /** Price at order time. */
    unitPriceCents: number;
    /** The product as catalog has it now; null once the product is deleted. */
    product: { id: number; name: string; priceCents: number; currency: string } | null;
  }>;
}

/** A result and the cache status of every read behind it (for one combined `X-Cache`). */
export interface ViewResult<T> {
  value: T;
  statuses: ReadStatus[];
}

/**
 * The order with the current user and product summaries, all read through order-service's
 * cache. Null when there is no such order, or when `mayRead` refuses the user it belongs to:
 * ids are sequential, so someone else's order must look exactly like a missing one. The check
 * runs on every read, hits included, before anything else about the order is loaded.
 */
export async function viewOrder(
  deps: OrderViewDeps,
  orderId: number,
  mayRead: (userId: number) => boolean,
  opts: ReadDeadline = {},
): Promise<ViewResult<OrderView> | null> {
  const order = await deps.orders.findById(orderId, opts);
  if (!order.value || !mayRead(order.value.userId)) return null;
  const stored = order.value;
  const [user, products] = await Promise.all([
    deps.users.getUser(stored.userId, opts),
    deps.products.getProducts(
      stored.items.map((item) => item.productId),
      opts,
    ),
  ]);
  const statuses: ReadStatus[] = [order.status, user.status, ...[...products.values()].map((p) => p.status)];
  return { value: composeView(stored, user.value, (id) => products.get(id)?.value ?? null), statuses };
}

export interface UserOrders {
  user: { id: number; name: string };
  orders: OrderSummary[];
  /** Pass as `before` for the next page; null on the last page. */
  nextBefore: number | null;
}

/**
 * A user's orders, newest first, as they were placed (no current product summaries: a list
 * stays one query however many products it names). UserNotFoundError for an unknown user.
 */
export async function listUserOrders(
  deps: Pick<OrderViewDeps, 'users' | 'orders'>,
  userId: number,
  page: { limit: number; beforeId?: number },
): Promise<ViewResult<UserOrders>> {
  const [user, orders] = await Promise.all([
    deps.users.getUser(userId),
    deps.orders.listByUser(userId, { limit: page.limit + 1, beforeId: page.beforeId }),
  ]);
  if (!user.value) throw new UserNotFoundError(userId);
  const hasMore = orders.length > page.limit;
  const pageOrders = hasMore ? orders.slice(0, page.limit) : orders;
  return {
    value: {
      user: { id: user.value.id, name: user.value.name },
      orders: pageOrders.map(toOrderSummary),
      nextBefore: hasMore ? pageOrders[pageOrders.length - 1]!.id : null,
    },
    statuses: [user.status],
  };
}

/** An order in a user's list: as stored, without the bookkeeping the settler keeps. */
export type OrderSummary = Pick<
  StoredOrder,
  'id' | 'userId' | 'status' | 'currency' | 'totalCents' | 'createdAt' | 'items'
> & { failure?: { code: string; message: string } };

function toOrderSummary(order: StoredOrder): OrderSummary {
  const { id, userId, status, currency, totalCents, createdAt, items } = order;
  return { id, userId, status, currency, totalCents, createdAt, items, ...failureOf(order) };
}

function failureOf(order: StoredOrder): { failure?: { code: string; message: string } } {
  return order.status === 'failed' && order.failure
    ? { failure: { code: order.failure.code, message: order.failure.message } }
    : {};
}

/** The API shape of a stored order with the summaries read for it. */
export function composeView(
  order: StoredOrder,
  user: { id: number; name: string } | null,
  productOf: (id: number) => { id: number; name: string; priceCents: number; currency: string } | null,
): OrderView {
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    currency: order.currency,
    totalCents: order.totalCents,
    createdAt: order.createdAt,
    ...failureOf(order),
    user: user ? { id: user.id, name: user.name } : null,
    items: order.items.map((item) => {
      const product = productOf(item.productId);
      return {
        productId: item.productId,
        quantity: item.quantity,
        unitPriceCents: item.unitPriceCents,
        product: product
          ? { id: product.id, name: product.name, priceCents: product.priceCents, currency: product.currency }
          : null,
      };
    }),
  };
}
