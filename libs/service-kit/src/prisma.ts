import { PrismaPg } from '@prisma/adapter-pg';
import type { Logger } from 'pino';
import { redactUrl } from './redact';

export interface PrismaClientFactoryOptions {
  databaseUrl: string;
  logger?: Logger;
  /** Connections in the pg pool. Default 10. */
  poolMax?: number;
  /**
   * How long to wait for a new connection. Default 2000 ms: when Postgres is down a request
   * should get its 503 (or its stale cached value) quickly, not hang.
   */
  connectTimeoutMs?: number;
  /** Client-side query timeout, which also bounds a query on a connection that went silent. Default 5000 ms. */
  queryTimeoutMs?: number;
}

/**
 * Builds the app's generated PrismaClient (Prisma 7 `prisma-client` generator) on the
 * `@prisma/adapter-pg` driver adapter: `createPrismaClient(PrismaClient, { databaseUrl })`.
 * The generated class is passed in because each service generates its own.
 */
export function createPrismaClient<T>(
  PrismaClient: new (options: { adapter: PrismaPg }) => T,
  {
    databaseUrl,
    logger,
    poolMax = 10,
    connectTimeoutMs = 2000,
    queryTimeoutMs = 5000,
  }: PrismaClientFactoryOptions,
): T {
  // An idle pooled connection that dies (Postgres restarted) emits 'error'; unhandled it would
  // crash the process, so it is logged and the pool replaces the connection.
  const onError = (err: Error) =>
    logger?.warn(
      { err: { message: err.message }, database: redactUrl(databaseUrl) },
      'postgres connection error',
    );
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: poolMax,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: queryTimeoutMs,
      idleTimeoutMillis: 30_000,
    },
    { onPoolError: onError, onConnectionError: onError },
  );
  return new PrismaClient({ adapter });
}
