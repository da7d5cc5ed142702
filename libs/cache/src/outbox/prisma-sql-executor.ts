import type { SqlExecutor } from './sql-executor.js';

/** A Prisma client (or anything with `$queryRawUnsafe` / `$executeRawUnsafe`). */
export function prismaSqlExecutor(prisma: {
  $queryRawUnsafe(query: string, ...values: unknown[]): PromiseLike<unknown>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}): SqlExecutor {
  return {
    query: async <R extends object>(sql: string, params: unknown[]) =>
      (await prisma.$queryRawUnsafe(sql, ...params)) as R[],
    execute: async (sql, params) => prisma.$executeRawUnsafe(sql, ...params),
  };
}
