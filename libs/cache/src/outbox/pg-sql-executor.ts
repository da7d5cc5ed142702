import type { SqlExecutor } from './sql-executor.js';

/** A `pg` Pool or Client (anything with `query(text, values)` returning `{ rows, rowCount }`). */
export function pgSqlExecutor(pool: {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}): SqlExecutor {
  return {
    query: async <R extends object>(sql: string, params: unknown[]) =>
      (await pool.query(sql, params)).rows as R[],
    execute: async (sql, params) => (await pool.query(sql, params)).rowCount ?? 0,
  };
}
