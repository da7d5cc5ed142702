import { Pool, type PoolClient } from 'pg';
import { Registry } from 'prom-client';
import {
  createTestDatabase,
  deleteRabbitObjects,
  rabbitUrl,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@memshop/testing';
import { InvalidationBus } from '../src/invalidation-bus.js';
import type { InvalidationEvent } from '../src/invalidation-event.js';
import { createPromCacheMetrics } from '../src/metrics.js';
import { OutboxRelay } from '../src/outbox/outbox-relay.js';
import { enqueueOutboxEvent, outboxTableSql, type OutboxTransaction } from '../src/outbox/outbox-table.js';
import { pgSqlExecutor } from '../src/outbox/pg-sql-executor.js';
import { prismaSqlExecutor } from '../src/outbox/prisma-sql-executor.js';
import type { SqlExecutor } from '../src/outbox/sql-executor.js';
import { productEvent } from './outbox-test-event';

jest.setTimeout(60_000);

let db: TestDatabase;
let pool: Pool;
let publisher: InvalidationBus;
let consumer: InvalidationBus;
const exchange = uniqueName('outbox-ex');
const queue = uniqueName('outbox-q');
const received: InvalidationEvent[] = [];

/** What Prisma's interactive transaction gives the callback, on a pg client inside BEGIN. */
function prismaLikeTx(client: PoolClient): OutboxTransaction {
  return {
    $executeRawUnsafe: async (sql: string, ...values: unknown[]) =>
      (await client.query(sql, values)).rowCount ?? 0,
  };
}

/** How the events of a transaction reach enqueueOutboxEvent; each describe below sets one. */
type TransactionAdapter = (client: PoolClient) => OutboxTransaction | SqlExecutor;
let adaptTransaction: TransactionAdapter = prismaLikeTx;

async function transaction<T>(
  fn: (tx: OutboxTransaction | SqlExecutor, client: PoolClient) => Promise<T>,
  rollback = false,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(adaptTransaction(client), client);
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('outbox');
  pool = new Pool({ connectionString: db.url, max: 6 });
  await pool.query(outboxTableSql());
  await pool.query('CREATE TABLE product (id text PRIMARY KEY, name text NOT NULL)');
  consumer = new InvalidationBus({ url: rabbitUrl(), service: 'order', exchange, queue, bindings: ['#'] });
  consumer.subscribe(async (e) => {
    received.push(e);
  });
  publisher = new InvalidationBus({ url: rabbitUrl(), service: 'catalog', exchange });
  await Promise.all([consumer.start(), publisher.start()]);
  await Promise.all([consumer.waitUntilConnected(), publisher.waitUntilConnected()]);
});

afterAll(async () => {
  await publisher?.close();
  await consumer?.close();
  await pool?.end();
  await db?.drop();
  const t = consumer.topology;
  await deleteRabbitObjects({ queues: [queue, t.parkingQueue], exchanges: [exchange, t.deadLetterExchange] });
});

beforeEach(async () => {
  await pool.query('DELETE FROM cache_outbox; DELETE FROM product');
});

// The same scenarios once through a Prisma-style transaction and once through plain pg.
describe.each<[string, TransactionAdapter]>([
  ['a Prisma-style transaction', prismaLikeTx],
  ['a pg PoolClient (pgSqlExecutor)', pgSqlExecutor],
])('transactional outbox against real Postgres and RabbitMQ, enqueued through %s', (_name, adapter) => {
  beforeAll(() => {
    adaptTransaction = adapter;
  });

  it('publishes the 49 good rows of a batch around an undecodable one, which is parked with its error', async () => {
    const registry = new Registry();
    const metrics = createPromCacheMetrics(registry);
    const relay = new OutboxRelay({
      db: pgSqlExecutor(pool),
      publisher,
      metrics,
      maxAttempts: 3,
      retryBaseSeconds: 0,
    });
    const events = await transaction(async (tx) => {
      const out: InvalidationEvent[] = [];
      for (let i = 0; i < 49; i += 1) out.push(await enqueueOutboxEvent(tx, productEvent(`batch-${i}`)));
      return out;
    });
    const bad = '00000000-0000-4000-8000-000000000bad';
    await pool.query(
      `INSERT INTO cache_outbox (event_id, routing_key, payload) VALUES ($1, 'catalog.product.updated', $2::jsonb)`,
      [bad, JSON.stringify({ not: 'an event' })],
    );
    expect((await relay.backlog()).count).toBe(50);

    expect(await relay.publishPending()).toEqual({ published: 49, failed: 1 });
    await waitFor(() => events.every((e) => received.some((r) => r.id === e.id)), {
      message: 'the 49 good events',
    });
    // Retried (no backoff in this test) until the limit, then parked: never claimed again.
    expect(await relay.publishPending()).toEqual({ published: 0, failed: 1 });
    expect(await relay.publishPending()).toEqual({ published: 0, failed: 1 });
    expect(await relay.publishPending()).toEqual({ published: 0, failed: 0 });
    const parked = await relay.parked();
    expect(parked).toEqual([
      expect.objectContaining({
        eventId: bad,
        attempts: 3,
        lastError:
          'UndecodableOutboxRowError: outbox payload is not an event: field id is not a non-empty string',
      }),
    ]);
    expect(await relay.backlog()).toEqual({ count: 0, oldestAgeSeconds: 0, parked: 1 });
    const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    expect(await gauge('outbox_backlog')).toBe(0);
    expect(await gauge('outbox_parked')).toBe(1);

    // Replay gives it a fresh budget: still undecodable, so it fails and is parked again later.
    expect(await relay.replayParked()).toBe(1);
    expect((await relay.backlog()).parked).toBe(0);
    await relay.stop();
  });

  it('fails a row whose publish no queue takes (mandatory, returned) instead of dropping it', async () => {
    // The consumer is bound to '#', so route through an exchange nobody is bound to.
    const lonely = new InvalidationBus({
      url: rabbitUrl(),
      service: 'catalog',
      exchange: uniqueName('outbox-lonely'),
    });
    await lonely.start();
    await lonely.waitUntilConnected();
    const unroutable = new OutboxRelay({ db: pgSqlExecutor(pool), publisher: lonely, retryBaseSeconds: 30 });
    const event = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('nobody')));
    expect(await unroutable.publishPending()).toEqual({ published: 0, failed: 1 });
    const { rows } = await pool.query('SELECT attempts, last_error FROM cache_outbox WHERE event_id = $1', [
      event.id,
    ]);
    expect(rows[0]).toEqual({
      attempts: 1,
      last_error: expect.stringMatching(/^InvalidationUnroutableError: /),
    });
    await lonely.close();
    await deleteRabbitObjects({ exchanges: [lonely.exchange] });
  });

  it('publishes an event enqueued in a committed transaction and marks it published', async () => {
    const registry = new Registry();
    const relay = new OutboxRelay({
      db: pgSqlExecutor(pool),
      publisher,
      metrics: createPromCacheMetrics(registry),
    });
    const event = await transaction(async (tx, client) => {
      await client.query(`INSERT INTO product VALUES ('p1', 'one')`);
      return enqueueOutboxEvent(tx, productEvent('p1'));
    });
    expect(await relay.backlog()).toEqual({ count: 1, oldestAgeSeconds: expect.any(Number), parked: 0 });
    expect(await relay.publishPending()).toEqual({ published: 1, failed: 0 });
    await waitFor(() => received.some((e) => e.id === event.id), { message: 'the committed event' });
    const { rows } = await pool.query('SELECT published_at, attempts FROM cache_outbox WHERE event_id = $1', [
      event.id,
    ]);
    expect(rows[0].published_at).not.toBeNull();
    // attempts counts failed publishes only
    expect(rows[0].attempts).toBe(0);
    expect(await relay.backlog()).toEqual({ count: 0, oldestAgeSeconds: 0, parked: 0 });
    const backlog = (await registry.getSingleMetric('outbox_backlog')?.get())?.values[0]?.value;
    expect(backlog).toBe(0);
  });

  it('uses the table it is given, the same for the DDL, the enqueue and the relay', async () => {
    await pool.query(outboxTableSql('shop_outbox'));
    const relay = new OutboxRelay({ db: pgSqlExecutor(pool), publisher, table: 'shop_outbox' });
    const event = await transaction((tx) =>
      enqueueOutboxEvent(tx, productEvent('own-table'), { table: 'shop_outbox' }),
    );
    expect(await relay.backlog()).toMatchObject({ count: 1 });
    expect(await relay.publishPending()).toEqual({ published: 1, failed: 0 });
    await waitFor(() => received.some((e) => e.id === event.id), { message: 'the event of the own table' });
    const { rows } = await pool.query('SELECT published_at FROM shop_outbox WHERE event_id = $1', [event.id]);
    expect(rows[0].published_at).not.toBeNull();
    await pool.query('DROP TABLE shop_outbox');
    expect(() => outboxTableSql('bad"name')).toThrow(TypeError);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const relay = new OutboxRelay({ db: pgSqlExecutor(pool), publisher });
    const rolledBack = await transaction(async (tx, client) => {
      await client.query(`INSERT INTO product VALUES ('p2', 'two')`);
      return enqueueOutboxEvent(tx, productEvent('p2'));
    }, true);
    const marker = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('marker')));
    expect(await relay.publishPending()).toEqual({ published: 1, failed: 0 });
    await waitFor(() => received.some((e) => e.id === marker.id), { message: 'the marker event' });
    expect(received.some((e) => e.id === rolledBack.id)).toBe(false);
    expect((await pool.query('SELECT count(*)::int AS n FROM product WHERE id = $1', ['p2'])).rows[0].n).toBe(
      0,
    );
  });

  it('keeps the row pending with a backoff while the broker is unreachable, then publishes it', async () => {
    const down = new InvalidationBus({ url: 'amqp://guest:guest@127.0.0.1:1', service: 'catalog', exchange });
    await down.start();
    const failing = new OutboxRelay({ db: pgSqlExecutor(pool), publisher: down, retryBaseSeconds: 30 });
    const event = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('p3')));
    expect(await failing.publishPending()).toEqual({ published: 0, failed: 1 });
    const { rows } = await pool.query(
      `SELECT published_at, attempts, last_error, next_attempt_at > now() + interval '20 seconds' AS backed_off
         FROM cache_outbox WHERE event_id = $1`,
      [event.id],
    );
    // Not connected is not the row's fault: it does not count toward parking.
    expect(rows[0]).toMatchObject({ published_at: null, attempts: 0, backed_off: true });
    expect(rows[0].last_error).toMatch(/not connected/);
    // Not due yet: a healthy relay leaves it alone until the backoff passes.
    const healthy = new OutboxRelay({ db: pgSqlExecutor(pool), publisher });
    expect(await healthy.publishPending()).toEqual({ published: 0, failed: 0 });
    await pool.query(`UPDATE cache_outbox SET next_attempt_at = now() WHERE event_id = $1`, [event.id]);
    expect(await healthy.publishPending()).toEqual({ published: 1, failed: 0 });
    await waitFor(() => received.some((e) => e.id === event.id), { message: 'the retried event' });
    await down.close();
  });

  it('lets two relays (pg and Prisma-style executors) share the table: every event published exactly once', async () => {
    const events = await transaction(async (tx) => {
      const out: InvalidationEvent[] = [];
      for (let i = 0; i < 120; i += 1) out.push(await enqueueOutboxEvent(tx, productEvent(`bulk-${i}`)));
      return out;
    });
    const publishes = new Map<string, number>();
    const counting = {
      publish: async (e: InvalidationEvent) => {
        publishes.set(e.id, (publishes.get(e.id) ?? 0) + 1);
        await publisher.publish(e);
      },
    };
    const prismaLike = {
      $queryRawUnsafe: async (sql: string, ...values: unknown[]) => (await pool.query(sql, values)).rows,
      $executeRawUnsafe: async (sql: string, ...values: unknown[]) =>
        (await pool.query(sql, values)).rowCount ?? 0,
    };
    const a = new OutboxRelay({ db: pgSqlExecutor(pool), publisher: counting, batchSize: 10 });
    const b = new OutboxRelay({ db: prismaSqlExecutor(prismaLike), publisher: counting, batchSize: 10 });
    const [ra, rb] = await Promise.all([a.publishPending(), b.publishPending()]);
    expect(ra.published + rb.published).toBe(120);
    expect(events.every((e) => publishes.get(e.id) === 1)).toBe(true);
    await waitFor(() => events.every((e) => received.some((r) => r.id === e.id)), { message: '120 events' });
  });

  it('with poll: false publishes only what it is given, neither at start nor later', async () => {
    const relay = new OutboxRelay({ db: pgSqlExecutor(pool), publisher, pollIntervalMs: 50, poll: false });
    const left = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('left-to-the-poll')));
    relay.start();
    const given = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('given')));
    relay.kick([given]);
    await waitFor(() => received.some((e) => e.id === given.id), { message: 'the given event' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await relay.stop();
    expect(received.some((e) => e.id === left.id)).toBe(false);
  });
  it('publishes right after commit on kick(), without waiting for the poll', async () => {
    const relay = new OutboxRelay({ db: pgSqlExecutor(pool), publisher, pollIntervalMs: 600_000 });
    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0);
    const event = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('kicked')));
    relay.kick();
    await waitFor(() => received.some((e) => e.id === event.id), { message: 'the kicked event' });
    await relay.stop();
  });
  it('kick(events) publishes the committed events without a claim, marks them, and leaves failures to the poll', async () => {
    const claims: string[] = [];
    const executor = pgSqlExecutor(pool);
    const db = {
      query: <R extends object>(sql: string, params: unknown[]) => {
        if (sql.includes('FOR UPDATE SKIP LOCKED')) claims.push(sql);
        return executor.query<R>(sql, params);
      },
      execute: (sql: string, params: unknown[]) => executor.execute(sql, params),
    };
    let failNext = false;
    const flaky = {
      publish: async (e: InvalidationEvent) => {
        if (failNext) throw new Error('broker said no');
        await publisher.publish(e);
      },
    };
    const relay = new OutboxRelay({ db, publisher: flaky, pollIntervalMs: 600_000 });
    relay.start();
    await waitFor(async () => (await relay.backlog()).count === 0);
    const claimsBefore = claims.length;

    const events = await transaction(async (tx) => [
      await enqueueOutboxEvent(tx, productEvent('direct-1')),
      await enqueueOutboxEvent(tx, productEvent('direct-2')),
    ]);
    relay.kick(events);
    await waitFor(() => events.every((e) => received.some((r) => r.id === e.id)), {
      message: 'direct events',
    });
    await relay.stop();
    expect(claims.length).toBe(claimsBefore);
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM cache_outbox WHERE published_at IS NOT NULL AND event_id = ANY($1::uuid[])',
      [events.map((e) => e.id)],
    );
    expect(rows[0].n).toBe(2);

    const retry = new OutboxRelay({ db, publisher: flaky, pollIntervalMs: 600_000 });
    retry.start();
    failNext = true;
    const lost = await transaction((tx) => enqueueOutboxEvent(tx, productEvent('direct-lost')));
    retry.kick([lost]);
    await retry.stop();
    expect((await retry.backlog()).count).toBe(1);
    // (the start-up round may have claimed it too and scheduled a backoff)
    await pool.query(`UPDATE cache_outbox SET next_attempt_at = now() WHERE event_id = $1`, [lost.id]);
    failNext = false;
    expect(await retry.publishPending()).toEqual({ published: 1, failed: 0 });
    await waitFor(() => received.some((e) => e.id === lost.id), { message: 'the retried event' });
  });
});
