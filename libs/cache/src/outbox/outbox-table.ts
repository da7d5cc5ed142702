import {
  createInvalidationEvent,
  invalidationRoutingKey,
  type InvalidationEvent,
  type NewInvalidationEvent,
} from '../invalidation-event.js';
import type { SqlExecutor } from './sql-executor.js';

/** The outbox table's name unless one is given (`table` of `OutboxRelay` and `enqueueOutboxEvent`). */
export const DEFAULT_OUTBOX_TABLE = 'cache_outbox';

/** The name is put into SQL as an identifier: only plain lower-case names are accepted. */
function checkedSqlName(name: string, what: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new TypeError(`${what} must be a plain lower-case SQL name, got ${JSON.stringify(name)}`);
  }
  return name;
}

export const checkedTableName = (table: string): string => checkedSqlName(table, 'outbox table');
export const checkedChannelName = (channel: string): string => checkedSqlName(channel, 'outbox channel');

/**
 * The outbox table, as Prisma's migration for the model in the README creates it (so a service
 * may either paste the model into schema.prisma, with `@@map("<table>")`, or run this SQL in a
 * migration). The constraint and index names are Prisma's for that table name.
 */
export function outboxTableSql(table = DEFAULT_OUTBOX_TABLE): string {
  const t = checkedTableName(table);
  return `CREATE TABLE IF NOT EXISTS "${t}" (
    "seq" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "routing_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    CONSTRAINT "${t}_pkey" PRIMARY KEY ("seq")
);
CREATE UNIQUE INDEX IF NOT EXISTS "${t}_event_id_key" ON "${t}"("event_id");
CREATE INDEX IF NOT EXISTS "${t}_published_at_next_attempt_at_idx" ON "${t}"("published_at", "next_attempt_at");
`;
}

/** Anything with Prisma's `$executeRawUnsafe`: the `tx` of `prisma.$transaction(async (tx) => ...)`. */
export interface OutboxTransaction {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> | PromiseLike<number>;
}

/**
 * Postgres refuses a NOTIFY payload of 8000 bytes or more: a larger event is stored but not
 * announced, and the polling relay publishes it.
 */
const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/**
 * Writes the event in the caller's transaction, so it commits or rolls back with the change
 * (no lost invalidation when the process dies between commit and publish). `db` is Prisma's
 * `tx`, or a `SqlExecutor` over the transaction's connection (`pgSqlExecutor(client)` between
 * `BEGIN` and `COMMIT`). Returns the stored event; call `relay.kick([event])` after the commit
 * to publish it at once. `options.table` is the outbox table (default 'cache_outbox'), the
 * same as the relay's `table`.
 *
 * `options.notify` names a LISTEN channel: the same statement queues a `pg_notify` carrying the
 * event, which Postgres delivers at the moment the transaction commits, and never if it rolls
 * back. An `OutboxListener` on that channel publishes it from there, so the publish does not wait
 * for the writer to read its COMMIT's reply (a turn of a busy event loop). The cost: Postgres
 * serializes the commits of notifying transactions (one lock, held through the commit's WAL
 * flush), which matters at thousands of such commits per second, not at a catalog's edit rate.
 */
export async function enqueueOutboxEvent(
  db: OutboxTransaction | SqlExecutor,
  fields: NewInvalidationEvent,
  options: { table?: string; notify?: string } = {},
): Promise<InvalidationEvent> {
  const event = createInvalidationEvent(fields);
  const table = checkedTableName(options.table ?? DEFAULT_OUTBOX_TABLE);
  const channel = options.notify === undefined ? undefined : checkedChannelName(options.notify);
  const payload = JSON.stringify(event);
  const params: unknown[] = [event.id, invalidationRoutingKey(event), payload];
  let sql = `INSERT INTO "${table}" ("event_id", "routing_key", "payload") VALUES ($1::uuid, $2, $3::jsonb)`;
  if (channel !== undefined && Buffer.byteLength(payload) <= MAX_NOTIFY_PAYLOAD_BYTES) {
    // One statement, so the notification costs no round trip of its own (a CTE calling a
    // volatile function is evaluated exactly once, never inlined away).
    sql = `WITH "notified" AS (SELECT pg_notify($4, $5))
           INSERT INTO "${table}" ("event_id", "routing_key", "payload")
           SELECT $1::uuid, $2, $3::jsonb FROM "notified"`;
    params.push(channel, payload); // $5: the text, where $3 is cast to jsonb
  }
  if ('execute' in db) await db.execute(sql, params);
  else await db.$executeRawUnsafe(sql, ...params);
  return event;
}
