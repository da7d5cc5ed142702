import { Client } from 'pg';

/** One product's units as catalog and order-service hold them. */
export interface StockLedgerLine {
  productId: number;
  /** catalog's `stock.quantity`. */
  stock: number;
  /** Units in catalog reservations still active (held, neither confirmed nor released). */
  reserved: number;
  /** Units in order-service's confirmed orders. */
  placed: number;
  /** stock + reserved + placed: what no fault may change. */
  total: number;
}

export interface StockLedgerOptions {
  catalogDatabaseUrl: string;
  orderDatabaseUrl: string;
  productIds: number[];
}

/**
 * The invariant of the order flow, read straight from both databases: for every product,
 * stock + units in active reservations + units in confirmed orders. A unit taken for an order
 * that never got placed (lost) or placed without being taken (oversold) changes the total.
 * Only meaningful once the system has settled: a confirmation committed in catalog but not yet
 * recorded by order-service counts in neither column for a moment.
 */
export async function readStockLedger(opts: StockLedgerOptions): Promise<Map<number, StockLedgerLine>> {
  const [catalogRows, orderRows] = await Promise.all([
    query<{ product_id: number; stock: number; reserved: string }>(
      opts.catalogDatabaseUrl,
      `SELECT s.product_id, s.quantity AS stock, COALESCE((
         SELECT SUM((item->>'quantity')::int) FROM stock_reservations r,
           jsonb_array_elements(r.items) AS item
         WHERE r.status = 'active' AND (item->>'productId')::int = s.product_id), 0) AS reserved
       FROM stock s WHERE s.product_id = ANY($1::int[])`,
      [opts.productIds],
    ),
    query<{ product_id: number; placed: string }>(
      opts.orderDatabaseUrl,
      `SELECT i.product_id, SUM(i.quantity) AS placed FROM order_items i
         JOIN orders o ON o.id = i.order_id
       WHERE o.status = 'confirmed' AND i.product_id = ANY($1::int[])
       GROUP BY i.product_id`,
      [opts.productIds],
    ),
  ]);
  const placedOf = new Map(orderRows.map((row) => [row.product_id, Number(row.placed)]));
  const ledger = new Map<number, StockLedgerLine>();
  for (const row of catalogRows) {
    const reserved = Number(row.reserved);
    const placed = placedOf.get(row.product_id) ?? 0;
    ledger.set(row.product_id, {
      productId: row.product_id,
      stock: row.stock,
      reserved,
      placed,
      total: row.stock + reserved + placed,
    });
  }
  return ledger;
}

/**
 * Orders with a step left (pending, or failed with the stock still held) and active
 * reservations: both 0 once the system has settled.
 */
export async function countUnsettled(
  opts: Omit<StockLedgerOptions, 'productIds'>,
): Promise<{ orders: number; activeReservations: number }> {
  const [orders, reservations] = await Promise.all([
    query<{ n: string }>(
      opts.orderDatabaseUrl,
      `SELECT COUNT(*) AS n FROM orders
       WHERE status = 'pending' OR (status = 'failed' AND stock_released_at IS NULL)`,
    ),
    query<{ n: string }>(
      opts.catalogDatabaseUrl,
      `SELECT COUNT(*) AS n FROM stock_reservations WHERE status = 'active'`,
    ),
  ]);
  return { orders: Number(orders[0]!.n), activeReservations: Number(reservations[0]!.n) };
}

async function query<T>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
