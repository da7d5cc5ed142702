// Connection-level failures: Postgres unreachable, restarting, or the pool exhausted.
// Anything in here becomes a 503 (retry later), never a 500 (a bug).
const prismaUnavailableCodes = new Set([
  'P1001', // can't reach database server
  'P1002', // database server timed out
  'P1008', // operation timed out
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2028', // transaction API error: could not start (pool exhausted) or it timed out
  'P2037', // too many database connections opened (Postgres refused: max_connections)
]);

const driverUnavailableKinds = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionAlreadyClosed',
  'postgres', // checked against pgUnavailableSqlState below
]);

const nodeNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATE class 08 (connection exception), 57P01..57P03 (shutdown / cannot connect now),
// 53300 (too many connections).
function pgUnavailableSqlState(code: unknown): boolean {
  return typeof code === 'string' && (code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300');
}

// "Query read timeout" is pg's own `query_timeout` (createPrismaClient): no answer from a
// connection that went silent, which reaches Prisma's caller as a bare Error.
const unavailableMessages =
  /Connection terminated|connection timeout|Can't reach database|timeout exceeded when trying to connect|Client has encountered a connection error|ECONNREFUSED|ECONNRESET|server closed the connection|Transaction already closed|transaction .* (?:expired|timeout)|Query read timeout/i;

/**
 * True when an error (from Prisma, the pg adapter or pg itself) means "the database is not
 * available right now" rather than "this query is wrong". Walks `cause` chains because Prisma
 * wraps adapter errors, which wrap pg errors.
 */
export function isDatabaseUnavailableError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      name?: string;
      code?: unknown;
      kind?: unknown;
      originalCode?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: { cause?: unknown } };
    };
    if (e.name === 'PrismaClientInitializationError') return true;
    if (typeof e.code === 'string' && prismaUnavailableCodes.has(e.code)) return true;
    if (typeof e.code === 'string' && nodeNetworkCodes.has(e.code)) return true;
    if (pgUnavailableSqlState(e.code) && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code))
      return true;
    if (typeof e.kind === 'string' && driverUnavailableKinds.has(e.kind)) {
      if (e.kind !== 'postgres' || pgUnavailableSqlState(e.originalCode)) return true;
    }
    if (typeof e.message === 'string' && unavailableMessages.test(e.message)) return true;
    // Prisma with a driver adapter nests the adapter's error in meta, not in cause.
    current = e.meta?.driverAdapterError?.cause ?? e.cause;
  }
  return false;
}
