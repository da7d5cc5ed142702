import { describeError } from '../error-handler';
import { transactionConflictKind, withTransactionRetry } from '../transaction-conflicts';

// The shapes Prisma 7 with @prisma/adapter-pg produces: P2034 for a driver adapter error of kind
// TransactionWriteConflict (40P01, 40001), and an adapter 'postgres' error carrying the SQLSTATE.
const deadlock = Object.assign(new Error('Transaction failed due to a write conflict or a deadlock'), {
  name: 'PrismaClientKnownRequestError',
  code: 'P2034',
  meta: { driverAdapterError: { cause: { kind: 'TransactionWriteConflict' } } },
});
const lockTimeout = Object.assign(new Error('canceling statement due to lock timeout'), {
  name: 'PrismaClientKnownRequestError',
  code: 'P2010',
  meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '55P03' } } },
});
const pgSerialization = Object.assign(new Error('could not serialize access'), { code: '40001' });

describe('transaction conflicts', () => {
  it('classifies deadlocks and serialization failures as retryable, lock timeouts as busy', () => {
    expect(transactionConflictKind(deadlock)).toBe('retryable');
    expect(transactionConflictKind(new Error('wrapped', { cause: pgSerialization }))).toBe('retryable');
    expect(transactionConflictKind(lockTimeout)).toBe('busy');
    expect(transactionConflictKind(new Error('other'))).toBeUndefined();
  });

  it('answers them 503 with a code that says what happened, never 500', () => {
    expect(describeError(deadlock)).toMatchObject({ status: 503, code: 'transaction_conflict' });
    expect(describeError(lockTimeout)).toMatchObject({ status: 503, code: 'database_busy' });
  });

  it('retries a retryable conflict a bounded number of times and nothing else', async () => {
    let calls = 0;
    await expect(
      withTransactionRetry(
        async () => {
          calls += 1;
          if (calls < 3) throw deadlock;
          return 'done';
        },
        { baseDelayMs: 1 },
      ),
    ).resolves.toBe('done');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      withTransactionRetry(
        async () => {
          calls += 1;
          throw deadlock;
        },
        { attempts: 4, baseDelayMs: 1 },
      ),
    ).rejects.toBe(deadlock);
    expect(calls).toBe(4);

    calls = 0;
    await expect(
      withTransactionRetry(async () => {
        calls += 1;
        throw lockTimeout;
      }),
    ).rejects.toBe(lockTimeout);
    expect(calls).toBe(1);
  });
});
