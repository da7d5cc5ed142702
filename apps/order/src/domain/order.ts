/**
 * The order and the summaries of other services' entities it is shown with. Plain types: the
 * ports below are implemented in data/ (Prisma, the cache, HTTP clients).
 */
export type OrderStatus = 'confirmed' | 'cancelled';

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
  getUser(id: number): Promise<Read<UserSummary | null>>;
}

/** catalog-service seen through order-service's cache, one batch per call. null: no such product. */
export interface ProductDirectory {
  getProducts(ids: number[]): Promise<Map<number, Read<ProductSummary | null>>>;
}

export interface ReservedLine extends OrderLine {
  /** catalog's price at the moment it took the stock, when its answer carries one. */
  priceCents?: number;
  /** The currency of `priceCents`. */
  currency?: string;
}

export interface StockReservation {
  items: ReservedLine[];
}

/** catalog's stock: takes all lines or none (InsufficientStockError). */
export interface StockReservations {
  reserve(lines: OrderLine[], reference: string): Promise<StockReservation>;
  /** Gives the stock back when the order could not be committed; best effort. */
  release(reservation: StockReservation, reference: string): Promise<void>;
}

export interface NewOrder {
  userId: number;
  currency: string;
  totalCents: number;
  items: StoredOrderItem[];
}

export interface OrderStore {
  create(order: NewOrder): Promise<StoredOrder>;
  findById(id: number): Promise<Read<StoredOrder | null>>;
  /** Newest first; `beforeId` pages backwards. */
  listByUser(userId: number, page: { limit: number; beforeId?: number }): Promise<StoredOrder[]>;
}
