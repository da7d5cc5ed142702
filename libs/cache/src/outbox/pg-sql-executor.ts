import type { SqlExecutor } from './sql-executor.js';

/**
 * What `pg`'s `Pool`, `PoolClient` and `Client` have in common, as far as the outbox uses it.
 * Structural, so the lib needs no `pg` (or `@types/pg`) of its own: the service's `pg` fits.
 */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * The outbox over `pg`. Give it the `PoolClient` of your transaction (between `BEGIN` and
 * `COMMIT`) for `enqueueOutboxEvent`, so the event commits or rolls back with the change; give
 * the relay the `Pool` (each of its statements stands alone, and a claim must not wait behind a
 * request's transaction).
 */
export function pgSqlExecutor(db: PgQueryable): SqlExecutor {
  return {
    query: async <R extends object>(sql: string, params: unknown[]) =>
      (await db.query(sql, params)).rows as R[],
    execute: async (sql, params) => (await db.query(sql, params)).rowCount ?? 0,
  };
}
