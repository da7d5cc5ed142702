import { isDatabaseUnavailableError } from '../database-errors';
import { describeError } from '../error-handler';

describe('database unavailable', () => {
  it("counts pg's own query timeout (a bare Error from a silent connection) as the database gone", () => {
    const timedOut = new Error('Query read timeout');
    expect(isDatabaseUnavailableError(timedOut)).toBe(true);
    expect(isDatabaseUnavailableError(new Error('wrapped', { cause: timedOut }))).toBe(true);
    expect(describeError(timedOut)).toMatchObject({ status: 503, code: 'database_unavailable' });
  });

  it('counts Postgres refusing a connection (max_connections) as the database gone, as Prisma 7 reports it', () => {
    // The shape Prisma 7 with @prisma/adapter-pg throws for SQLSTATE 53300.
    const tooMany = Object.assign(
      new Error('Too many database connections opened: sorry, too many clients already'),
      {
        name: 'PrismaClientKnownRequestError',
        code: 'P2037',
        meta: {
          driverAdapterError: {
            cause: {
              originalCode: '53300',
              kind: 'TooManyConnections',
              cause: 'sorry, too many clients already',
            },
          },
        },
      },
    );
    expect(isDatabaseUnavailableError(tooMany)).toBe(true);
    expect(isDatabaseUnavailableError({ meta: tooMany.meta })).toBe(true);
    expect(describeError(tooMany)).toMatchObject({ status: 503, code: 'database_unavailable' });
  });

  it('leaves other errors to be what they are', () => {
    expect(isDatabaseUnavailableError(new Error('column "x" does not exist'))).toBe(false);
  });
});
