import { isDatabaseUnavailableError } from '../database-errors';
import { describeError } from '../error-handler';

describe('database unavailable', () => {
  it("counts pg's own query timeout (a bare Error from a silent connection) as the database gone", () => {
    const timedOut = new Error('Query read timeout');
    expect(isDatabaseUnavailableError(timedOut)).toBe(true);
    expect(isDatabaseUnavailableError(new Error('wrapped', { cause: timedOut }))).toBe(true);
    expect(describeError(timedOut)).toMatchObject({ status: 503, code: 'database_unavailable' });
  });

  it('leaves other errors to be what they are', () => {
    expect(isDatabaseUnavailableError(new Error('column "x" does not exist'))).toBe(false);
  });
});
