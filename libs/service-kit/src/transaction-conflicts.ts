/**
 * Postgres and Prisma codes for "two transactions collided", not "the request is wrong" nor "the
 * database is gone". A deadlock victim (40P01) or a serialization failure (40001) succeeds when
 * run again; Prisma reports both as P2034 (driver adapter kind TransactionWriteConflict). A lock
 * wait that hit `lock_timeout` (55P03) or a statement cancelled by `statement_timeout` (57014)
 * means the row stayed busy for longer than the service waits: answered 503, not retried, so a
 * request never waits past its bound several times over.
 */
const retryableCodes = new Set(['40P01', '40001', 'P2034']);
const busyCodes = new Set(['55P03', '57014']);

export type TransactionConflictKind = 'retryable' | 'busy';

/**
 * Which kind of collision an error (Prisma, the pg adapter or pg, at any depth of `cause` or
 * Prisma's `meta.driverAdapterError`) reports, or undefined for any other error.
 */
export function transactionConflictKind(err: unknown): TransactionConflictKind | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      kind?: unknown;
      originalCode?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: { cause?: unknown } };
    };
    if (e.kind === 'TransactionWriteConflict') return 'retryable';
    for (const code of [e.code, e.originalCode]) {
      if (typeof code !== 'string') continue;
      if (retryableCodes.has(code)) return 'retryable';
      if (busyCodes.has(code)) return 'busy';
    }
    current = e.meta?.driverAdapterError?.cause ?? e.cause;
  }
  return undefined;
}

export interface TransactionRetryOptions {
  /** Runs in all, the first included. Default 4. */
  attempts?: number;
  /** Backoff before retry n is a random delay up to `baseDelayMs * 2^n`. Default 10 ms. */
  baseDelayMs?: number;
}

/**
 * Runs `transaction` again when Postgres chose it as a deadlock victim or could not serialize it,
 * a bounded number of times with jittered backoff (the colliding transaction usually commits
 * within milliseconds). The last error is rethrown as it is; the error handler answers it 503.
 */
export async function withTransactionRetry<T>(
  transaction: () => Promise<T>,
  { attempts = 4, baseDelayMs = 10 }: TransactionRetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (err) {
      if (attempt >= attempts || transactionConflictKind(err) !== 'retryable') throw err;
      const delayMs = Math.random() * baseDelayMs * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
