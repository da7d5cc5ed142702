/** The two calls the relay makes; prisma-sql-executor.ts and pg-sql-executor.ts adapt Prisma clients and pg pools. */
export interface SqlExecutor {
  query<R extends object>(sql: string, params: unknown[]): Promise<R[]>;
  execute(sql: string, params: unknown[]): Promise<number>;
}
