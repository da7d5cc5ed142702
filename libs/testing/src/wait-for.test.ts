import { waitFor } from './index';

describe('waitFor', () => {
  it('returns the first value that is not undefined or false, retrying through throws', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls === 1) throw new Error('not ready');
        if (calls === 2) return false;
        return calls === 3 ? undefined : 0;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(0);
    expect(calls).toBe(4);
  });

  it('times out with the message and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still down');
        },
        { timeoutMs: 20, intervalMs: 5, message: 'the thing' },
      ),
    ).rejects.toThrow(/waiting for the thing: last error: still down/);
  });
});
