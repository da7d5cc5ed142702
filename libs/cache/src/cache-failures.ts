import { CacheUnavailableError } from './errors.js';
import { errorFields, type RateLimitedLogger } from './logger.js';
import type { CacheRequestResult } from './metrics.js';
import type { CacheTracing } from './tracing.js';

/**
 * Cache failures never fail a request: each one is logged (rate-limited per operation and error
 * name), published on the diagnostics channel, and becomes the request result it implies.
 */
export class CacheFailures {
  readonly #log: RateLimitedLogger;
  readonly #tracing: CacheTracing;

  constructor(log: RateLimitedLogger, tracing: CacheTracing) {
    this.#log = log;
    this.#tracing = tracing;
  }

  report(op: string, key: string, err: unknown): CacheRequestResult {
    const name = err instanceof Error ? err.name : 'NonError';
    this.#log.warn(
      `cache-${op}-${name}`,
      { op, key, ...errorFields(err) },
      'cache operation failed, continuing without cache',
    );
    this.#tracing.publish('error', { op, key, error: err });
    // An unavailable cluster refused without trying (every node ejected): a bypass, not an error.
    return err instanceof CacheUnavailableError ? 'bypass' : 'error';
  }
}
