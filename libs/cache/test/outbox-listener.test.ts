import { Client, Pool } from 'pg';
import { createTestDatabase, startTcpProxy, uniqueName, waitFor, type TestDatabase } from '@memshop/testing';
import type { InvalidationEvent } from '../src/invalidation-event.js';
import { OutboxListener } from '../src/outbox/outbox-listener.js';
import { enqueueOutboxEvent, outboxTableSql } from '../src/outbox/outbox-table.js';
import { pgSqlExecutor } from '../src/outbox/pg-sql-executor.js';
import { productEvent } from './outbox-test-event';

jest.setTimeout(60_000);

let db: TestDatabase;
let pool: Pool;
const channel = uniqueName('outbox_announced').replace(/[^a-z0-9_]/g, '_');

/** What a relay is asked to do: each kick, with the events it was given. */
function recordingRelay() {
  const kicks: Array<readonly InvalidationEvent[]> = [];
  return { kicks, kick: (events: readonly InvalidationEvent[]) => void kicks.push(events) };
}

/**
 * A listener on its own connections, which the test can cut (pg_terminate_backend of their pid),
 * optionally through a proxy the test owns.
 */
function startListener(
  relay: ReturnType<typeof recordingRelay>,
  opts: { url?: string; heartbeatIntervalMs?: number } = {},
) {
  /** The backend pid of each connection the listener opened, in order. */
  const connections: number[] = [];
  const changes: boolean[] = [];
  const listener = new OutboxListener({
    channel,
    relay,
    reconnectBaseMs: 20,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    queryTimeoutMs: 500,
    connect: async () => {
      const client = new Client({ connectionString: opts.url ?? db.url });
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      connections.push(rows[0]!.pid);
      return client;
    },
    onListening: (listening) => changes.push(listening),
  });
  listener.start();
  return { listener, connections, changes };
}

async function inTransaction(fn: (tx: ReturnType<typeof pgSqlExecutor>) => Promise<void>, rollback = false) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await fn(pgSqlExecutor(client));
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('outbox_listener');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await pool.query(outboxTableSql());
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('OutboxListener against real Postgres', () => {
  it('hands the relay each announced event when its transaction commits, and nothing for a rollback', async () => {
    const relay = recordingRelay();
    const { listener } = startListener(relay);
    try {
      await waitFor(() => listener.listening);

      let enqueued: InvalidationEvent | undefined;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        enqueued = await enqueueOutboxEvent(pgSqlExecutor(client), productEvent('7'), { notify: channel });
        // Queued, not sent: Postgres delivers a notification at commit. Notifications arrive in
        // commit order, so once a later-committed marker is heard, '7' would have been too.
        await inTransaction(async (tx) => {
          await enqueueOutboxEvent(tx, productEvent('marker'), { notify: channel });
        });
        await waitFor(() => relay.kicks.length === 1);
        expect(relay.kicks[0]?.map((e) => e.entityId)).toEqual(['marker']);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await waitFor(() => relay.kicks.length === 2);
      expect(relay.kicks[1]).toEqual([enqueued]);

      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('8'), { notify: channel });
      }, true);
      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('9'), { notify: channel });
      });
      await waitFor(() => relay.kicks.length === 3);
      expect(relay.kicks[2]?.map((e) => e.entityId)).toEqual(['9']);
      // Written without `notify`: stored, not announced (the next announced event comes next).
      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('10'));
      });
      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('11'), { notify: channel });
      });
      await waitFor(() => relay.kicks.length === 4);
      expect(relay.kicks[3]?.map((e) => e.entityId)).toEqual(['11']);
    } finally {
      await listener.close();
    }
  });

  it('stores an event too large for NOTIFY without announcing it: the polling relay publishes it', async () => {
    const relay = recordingRelay();
    const { listener } = startListener(relay);
    try {
      await waitFor(() => listener.listening);
      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('x'.repeat(9000)), { notify: channel });
      });
      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('small'), { notify: channel });
      });
      await waitFor(() => relay.kicks.length === 1);
      expect(relay.kicks[0]?.map((e) => e.entityId)).toEqual(['small']);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM cache_outbox WHERE length(payload->>'entityId') = 9000`,
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await listener.close();
    }
  });

  it('reconnects after its connection is cut and says so', async () => {
    const relay = recordingRelay();
    const { listener, connections, changes } = startListener(relay);
    try {
      await waitFor(() => listener.listening);
      await pool.query('SELECT pg_terminate_backend($1)', [connections[0]]);
      await waitFor(() => connections.length === 2 && listener.listening);
      expect(changes).toEqual([true, false, true]);

      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('11'), { notify: channel });
      });
      await waitFor(() => relay.kicks.length === 1);
      expect(relay.kicks[0]?.map((e) => e.entityId)).toEqual(['11']);
    } finally {
      await listener.close();
    }
    expect(listener.listening).toBe(false);
    expect(changes.at(-1)).toBe(false);
  });

  it('drops a connection gone silent (no reset, no FIN) at its next heartbeat and listens again', async () => {
    const dbUrl = new URL(db.url);
    const proxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
    dbUrl.hostname = proxy.host;
    dbUrl.port = String(proxy.port);
    const relay = recordingRelay();
    const { listener, connections, changes } = startListener(relay, {
      url: dbUrl.toString(),
      heartbeatIntervalMs: 200,
    });
    try {
      await waitFor(() => listener.listening);
      proxy.freeze();
      await waitFor(() => changes.length === 3, { timeoutMs: 10_000, message: 'never listened again' });
      expect(changes).toEqual([true, false, true]);
      expect(connections).toHaveLength(2);

      await inTransaction(async (tx) => {
        await enqueueOutboxEvent(tx, productEvent('12'), { notify: channel });
      });
      await waitFor(() => relay.kicks.length === 1);
      expect(relay.kicks[0]?.map((e) => e.entityId)).toEqual(['12']);
    } finally {
      await listener.close();
      await proxy.close();
      // The frozen connection's backend is still waiting for its client: end it.
      await pool.query('SELECT pg_terminate_backend($1)', [connections[0]]);
    }
  });

  it('refuses a channel that is not a plain lower-case SQL name', () => {
    expect(
      () => new OutboxListener({ channel: 'Bad-Name', relay: recordingRelay(), connect: jest.fn() }),
    ).toThrow(TypeError);
  });
});
