import type { CacheRuntimeTuning } from './cache-runtime';
import type { ServiceOverrides } from './compose-service';
import { createLogger } from './logger';
import { createServiceMetrics } from './metrics';

export interface ComponentTestOverridesOptions {
  /** Name in the log lines, when several instances of one service run in a test; default the service's. */
  instance?: string;
  /** On top of the defaults below (a clock of the test's own, other relay or bus timings). */
  cache?: CacheRuntimeTuning;
}

export interface ComponentTestOverrides {
  overrides: ServiceOverrides;
  /** Moves the cache's clock forward (soft expiry) without waiting; not with a clock of the test's own. */
  advanceClock(ms: number): void;
}

/**
 * What every test harness hands a composition root: a logger at TEST_LOG_LEVEL (silent by
 * default), metrics without Node's defaults (a registry per instance, nothing to scrape), a 5 s
 * database connect timeout, a cache clock the test can move, and a 200 ms relay poll (an event a
 * test waits for is published at once). The connect timeout: a burst that opens several pool
 * connections at once took more than 1 s on a loaded 2-core CI machine and answered 503 (a
 * service's default is 2 s). A cut link is refused at once whatever the timeout; a silent one
 * gives up after the query timeout on a pooled connection or the connect timeout on a new one,
 * 5 s either way.
 * It lives here, not in libs/testing: testing is what libs/cache's tests use, and service-kit
 * builds on libs/cache.
 */
export function componentTestOverrides(
  service: string,
  { instance = service, cache = {} }: ComponentTestOverridesOptions = {},
): ComponentTestOverrides {
  let clockOffsetMs = 0;
  return {
    overrides: {
      logger: createLogger({ service: instance, level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
      metrics: createServiceMetrics(service, { defaultMetrics: false }),
      databaseConnectTimeoutMs: 5000,
      cache: {
        ...cache,
        clock: cache.clock ?? (() => Date.now() + clockOffsetMs),
        relayPollIntervalMs: cache.relayPollIntervalMs ?? 200,
      },
    },
    advanceClock: (ms) => {
      clockOffsetMs += ms;
    },
  };
}
