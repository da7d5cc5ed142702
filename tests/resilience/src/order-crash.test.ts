import os from 'node:os';
import path from 'node:path';
import {
  bearer,
  countUnsettled,
  loadedMachineMemcachedEnv,
  readStockLedger,
  relaxedRateLimitEnv,
  uniqueName,
  waitFor,
  type StockLedgerLine,
} from '@memshop/testing';
import { Client } from 'pg';
import { ServiceProcess, waitUntilReady } from '../../../scripts/lib/service-process';
import { startStack, type Stack } from '../../../scripts/stack';

/**
 * order-service killed with SIGKILL in the middle of placing an order, then restarted: the
 * order ends placed with its stock taken once, or failed with its stock given back, with nobody
 * stepping in. Settle time: the restarted order-service's settler takes leftover orders after
 * ORDER_SETTLE_DELAY_MS (1 s) and looks every 200 ms; catalog's sweeper releases a reservation
 * 2 s (STOCK_RESERVATION_TTL_SECONDS) after it was made, checking every 200 ms. Both scenarios
 * settle within about 3 s of the restart.
 */
const SETTLE_ENV = {
  ORDER_SETTLE_INTERVAL_MS: '200',
  ORDER_SETTLE_DELAY_MS: '1000',
  STOCK_RESERVATION_TTL_SECONDS: '2',
  STOCK_RESERVATION_SWEEP_INTERVAL_MS: '200',
};
const HOLD_LOCK = 74_111;

let stack: Stack;
let order: ServiceProcess;
let logDir: string;

beforeAll(async () => {
  logDir = path.join(os.tmpdir(), uniqueName('resilience-order-crash-logs'));
  stack = await startStack({
    services: ['catalog', 'user', 'order'],
    ports: { catalog: 0, user: 0, order: 0 },
    databases: 'fresh',
    rabbit: 'isolated',
    logLevel: 'warn',
    logDir,
    env: { ...relaxedRateLimitEnv, ...loadedMachineMemcachedEnv, ...SETTLE_ENV },
  });
  order = stack.processes.order[0]!;
}, 180_000);

afterAll(async () => {
  await order?.stop();
  await stack?.stop();
}, 60_000);

const databases = () => ({
  catalogDatabaseUrl: stack.databases.catalog.url,
  orderDatabaseUrl: stack.databases.order.url,
});

/** The order process again, on the same port, database and queue (as a supervisor would). */
async function restartOrder(): Promise<void> {
  order = new ServiceProcess({
    service: 'order',
    instance: 0,
    port: order.port,
    adminPort: order.adminPort,
    env: {
      ...process.env,
      ...stack.auth.envFor('order'),
      ...relaxedRateLimitEnv,
      ...loadedMachineMemcachedEnv,
      ...SETTLE_ENV,
      LOG_LEVEL: 'warn',
      DATABASE_URL: stack.databases.order.url,
      MEMCACHED_SERVERS: stack.memcachedServers.join(','),
      RABBITMQ_URL: stack.rabbit.url,
      INVALIDATION_EXCHANGE: stack.rabbit.exchange,
      INVALIDATION_QUEUE: stack.rabbit.queues.order,
      CATALOG_URL: stack.urls.catalog,
      USER_URL: stack.urls.user,
      SERVICE_INSTANCE_ID: 'order-1',
    },
    logFile: path.join(logDir, 'order-1-restarted.log'),
  });
  await waitUntilReady(order, 60_000);
}

async function killOrder(): Promise<void> {
  order.killNow();
  await order.exited();
}

async function catalogDb(): Promise<Client> {
  const db = new Client({ connectionString: stack.databases.catalog.url });
  await db.connect();
  return db;
}

/**
 * Makes catalog's reservation writes that match `when` wait on an advisory lock this session
 * holds: order-service is then stuck inside that call, at a known point, until released.
 */
async function holdReservationUpdates(db: Client, when: string): Promise<() => Promise<void>> {
  await db.query(`CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_xact_lock(${HOLD_LOCK}); RETURN NEW; END $$`);
  await db.query(`CREATE TRIGGER test_hold BEFORE UPDATE ON stock_reservations
    FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION test_hold()`);
  await db.query(`SELECT pg_advisory_lock(${HOLD_LOCK})`);
  return async () => {
    await db.query('SELECT pg_advisory_unlock_all()');
    await db.query('DROP TRIGGER IF EXISTS test_hold ON stock_reservations');
    await db.query('DROP FUNCTION IF EXISTS test_hold()');
  };
}

async function waitUntilHeld(db: Client): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
           AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      );
      return rows.length === 1;
    },
    { message: 'catalog to wait inside the held reservation write' },
  );
}

async function setStock(productId: number, stock: number): Promise<void> {
  const res = await fetch(`${stack.urls.catalog}/products/${productId}`, {
    method: 'PATCH',
    headers: { ...bearer(await stack.auth.adminToken()), 'content-type': 'application/json' },
    body: JSON.stringify({ stock }),
  });
  if (res.status !== 200) throw new Error(`PATCH stock answered ${res.status}`);
}

/** POST /orders whose answer never comes (the process dies): resolves with what happened. */
async function postOrder(productId: number, quantity: number): Promise<string> {
  return fetch(`${order.url}/orders`, {
    method: 'POST',
    headers: { ...bearer(await stack.auth.userToken(1)), 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 1, items: [{ productId, quantity }] }),
  }).then(
    (res) => `answered ${res.status}`,
    () => 'no answer',
  );
}

async function onlyOrder(productId: number): Promise<{ id: number; status: string }> {
  const db = new Client({ connectionString: stack.databases.order.url });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT o.id, o.status::text AS status FROM orders o JOIN order_items i ON i.order_id = o.id
       WHERE i.product_id = $1`,
      [productId],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  } finally {
    await db.end();
  }
}

async function expectSettledInvariant(before: Map<number, StockLedgerLine>) {
  await waitFor(
    async () => {
      const unsettled = await countUnsettled(databases());
      return unsettled.orders === 0 && unsettled.activeReservations === 0;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'every order and reservation to settle' },
  );
  const after = await readStockLedger({ ...databases(), productIds: [...before.keys()] });
  for (const [id, line] of before)
    expect({ id, total: after.get(id)?.total }).toEqual({ id, total: line.total });
  return after;
}

describe('order-service killed (SIGKILL) between the reservation and its commit', () => {
  it('dies while catalog confirms: restarted, it records the order placed, stock taken once', async () => {
    await setStock(7, 10);
    const before = await readStockLedger({ ...databases(), productIds: [7] });
    const db = await catalogDb();
    try {
      const release = await holdReservationUpdates(db, `OLD.status = 'active' AND NEW.status = 'confirmed'`);
      try {
        const answer = postOrder(7, 3);
        await waitUntilHeld(db);
        await killOrder();
        expect(await answer).toBe('no answer');
      } finally {
        // catalog commits the confirmation nobody is waiting for any more.
        await release();
      }
    } finally {
      await db.end();
    }
    await restartOrder();
    const after = await expectSettledInvariant(before);
    expect(after.get(7)).toMatchObject({ stock: 7, reserved: 0, placed: 3 });
    expect((await onlyOrder(7)).status).toBe('confirmed');
  });

  it('dies before confirming and stays down past the expiry: the sweeper gives the stock back', async () => {
    await setStock(8, 10);
    const before = await readStockLedger({ ...databases(), productIds: [8] });
    const db = await catalogDb();
    try {
      // The reservation's own transaction (it writes the items' prices) waits: order-service
      // is inside POST /stock/reservations when it dies, and catalog commits it afterwards.
      const release = await holdReservationUpdates(db, `OLD.status = 'active' AND NEW.status = 'active'`);
      try {
        const answer = postOrder(8, 4);
        await waitUntilHeld(db);
        await killOrder();
        expect(await answer).toBe('no answer');
      } finally {
        await release();
      }
      await waitFor(
        async () => {
          const { rows } = await db.query(
            `SELECT status::text FROM stock_reservations WHERE items @> '[{"productId": 8}]'`,
          );
          return rows.length === 1 && rows[0].status === 'released';
        },
        { timeoutMs: 20_000, message: 'catalog to release the expired reservation' },
      );
    } finally {
      await db.end();
    }
    await restartOrder();
    const after = await expectSettledInvariant(before);
    expect(after.get(8)).toMatchObject({ stock: 10, reserved: 0, placed: 0 });
    expect((await onlyOrder(8)).status).toBe('failed');
  });
});
