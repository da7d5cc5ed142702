export interface WaitForOptions {
  /** Give up after this long. Default 10 000 ms: long enough for a memcached restart on a busy 2-core CI box. */
  timeoutMs?: number;
  /** Delay between attempts. Default 50 ms. */
  intervalMs?: number;
  /** Said in the timeout error, so a failing test tells what it was waiting for. */
  message?: string;
}

/**
 * Polls `fn` until it returns something other than `undefined` or `false`, and returns that.
 * A throw counts as "not yet" (a server that is still starting refuses connections); the last
 * error is attached to the timeout error so the cause is not lost.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = opts.message ?? 'condition';
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${what}${cause}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
