import type { ReadDeadline } from '@memshop/service-kit';
/**
 * The order and the summaries of other services' entities it is shown with. Plain types: the
 * ports below are implemented in data/ (Prisma, the cache, HTTP clients).
 */
/**
 * pending: saved, its stock reservation not yet confirmed; confirmed: placed, the stock is taken;
 * failed: refused or given up, the stock is (or is being) given back. cancelled: older rows only.
 */
export type OrderStatus = 'pending' | 'confirmed' | 'failed' | 'cancelled';

/** Why an order failed, as the client was (or will be, on a replay) answered. */
export interface OrderFailure {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export interface OrderLine {
  productId: number;
  quantity: number;
}

export interface StoredOrderItem extends OrderLine {
  /** Price when the order was placed. */
  unitPriceCents: number;
}

export interface StoredOrder {
  id: number;
  userId: number;
  status: OrderStatus;
  currency: string;
  totalCents: number;
  createdAt: string;
  items: StoredOrderItem[];
  /** Incremented on every status change (the cache keeps the newest). */
  version: number;
  /** catalog's stock reservation for this order. */
  reservationReference: string;
  /** Set on failed orders. */
  failure: OrderFailure | null;
  /** A failed order whose stock catalog has confirmed given back. */
  stockReleased: boolean;
  /** Hash of the body that came with the Idempotency-Key, if any. */
  requestHash: string | null;
}

/** What order-service keeps of a user-service user: only what an order shows. */
export interface UserSummary {
  id: number;
  name: string;
}

/** What order-service keeps of a catalog product: what an order shows and prices with. */
export interface ProductSummary {
  id: number;
  name: string;
  priceCents: number;
  currency: string;
}

/** How a read was served, as the `X-Cache` header tells it. */
export type ReadStatus = 'hit' | 'miss' | 'stale' | 'bypass';

export interface Read<T> {
  value: T;
  status: ReadStatus;
}

/** user-service seen through order-service's cache. null: no such user. */
export interface UserDirectory {
  getUser(id: number, opts?: ReadDeadline): Promise<Read<UserSummary | null>>;
}

/** catalog-service seen through order-service's cache, one batch per call. null: no such product. */
export interface ProductDirectory {
  getProducts(ids: number[], opts?: ReadDeadline): Promise<Map<number, Read<ProductSummary | null>>>;
}

export interface ReservedLine extends OrderLine {
  /** catalog's price at the moment it took the stock, when its answer carries one. */
  priceCents?: number;
  /** The currency of `priceCents`. */
  currency?: string;
}

/** A stock reservation as catalog answers about it. */
export interface StockReservation {
  /** active: held until confirmed or expired; released: given back, expired or refused. */
  status: 'active' | 'confirmed' | 'released';
  items: ReservedLine[];
}

/** catalog's stock, reserved, confirmed and released by the order's reservation reference. */
export interface StockReservations {
  /** Takes all lines or none (InsufficientStockError); the same reference again takes nothing more. */
  reserve(lines: OrderLine[], reference: string): Promise<StockReservation>;
  /** Makes the reservation final, or answers `released` when it no longer can be. */
  confirm(reference: string): Promise<StockReservation>;
  /** Gives the stock back (also a confirmed reservation's); a reference never reserved stays unusable. */
  release(reference: string): Promise<void>;
}

export interface NewOrder {
  userId: number;
  currency: string;
  totalCents: number;
  items: StoredOrderItem[];
  reservationReference: string;
  idempotencyKey?: string;
  requestHash?: string;
}

/** The order's lines with the prices it is placed at. */
export interface PricedLines {
  items: StoredOrderItem[];
  totalCents: number;
  currency: string;
}

export interface OrderStore {
  /**
   * Saves the order as pending. With an idempotency key already used, saves nothing and returns
   * that key's order (`created: false`).
   */
  createPending(order: NewOrder): Promise<{ order: StoredOrder; created: boolean }>;
  /** pending -> confirmed at these prices; returns the order as it is after (maybe failed by another step first). */
  markConfirmed(id: number, priced: PricedLines): Promise<StoredOrder>;
  /** pending -> failed; `stockReleased` when catalog holds no stock for it. Returns the order as it is after. */
  markFailed(id: number, failure: OrderFailure, stockReleased: boolean): Promise<StoredOrder>;
  /** Deletes an order still pending whose reservation never reached catalog (nothing to settle). */
  discardPending(id: number): Promise<void>;
  /** catalog has the stock of this failed order back. */
  markStockReleased(id: number): Promise<void>;
  /**
   * Orders with a step left (pending, or failed with stock not yet given back) whose time has
   * come, each claimed for this caller by pushing its next turn into the future (backoff).
   */
  claimUnsettled(limit: number): Promise<StoredOrder[]>;
  findById(id: number, opts?: ReadDeadline): Promise<Read<StoredOrder | null>>;
  /** From the database, bypassing the cache. */
  findFresh(id: number): Promise<StoredOrder | null>;
  /** Keys are the client's own: the same key from two users names two orders. */
  findByIdempotencyKey(userId: number, key: string): Promise<StoredOrder | null>;
  /** Newest first; `beforeId` pages backwards. */
  listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]>;
}
