import {
  createInvalidationEvent,
  invalidationRoutingKey,
  type InvalidationEvent,
  type NewInvalidationEvent,
} from '../invalidation-event.js';
import type { SqlExecutor } from './sql-executor.js';

export const OUTBOX_TABLE = 'memshop_outbox';

/**
 * The outbox table, as Prisma's migration for the model in the README creates it (so a service
 * may either paste the model into schema.prisma or run this SQL in a migration).
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE IF NOT EXISTS "memshop_outbox" (
    "seq" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "routing_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    CONSTRAINT "memshop_outbox_pkey" PRIMARY KEY ("seq")
);
CREATE UNIQUE INDEX IF NOT EXISTS "memshop_outbox_event_id_key" ON "memshop_outbox"("event_id");
CREATE INDEX IF NOT EXISTS "memshop_outbox_published_at_next_attempt_at_idx" ON "memshop_outbox"("published_at", "next_attempt_at");
`;

/** Anything with Prisma's `$executeRawUnsafe`: the `tx` of `prisma.$transaction(async (tx) => ...)`. */
export interface OutboxTransaction {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> | PromiseLike<number>;
}

/**
 * Writes the event in the caller's transaction, so it commits or rolls back with the change
 * (no lost invalidation when the process dies between commit and publish). `db` is Prisma's
 * `tx`, or a `SqlExecutor` over the transaction's connection (`pgSqlExecutor(client)` between
 * `BEGIN` and `COMMIT`). Returns the stored event; call `relay.kick([event])` after the commit
 * to publish it at once.
 */
export async function enqueueOutboxEvent(
  db: OutboxTransaction | SqlExecutor,
  fields: NewInvalidationEvent,
): Promise<InvalidationEvent> {
  const event = createInvalidationEvent(fields);
  const sql = `INSERT INTO "${OUTBOX_TABLE}" ("event_id", "routing_key", "payload") VALUES ($1::uuid, $2, $3::jsonb)`;
  const params = [event.id, invalidationRoutingKey(event), JSON.stringify(event)];
  if ('execute' in db) await db.execute(sql, params);
  else await db.$executeRawUnsafe(sql, ...params);
  return event;
}
