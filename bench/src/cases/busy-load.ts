import { untilHit } from '../http-probe';
import { LoadGenerator } from '../load-client';
import { summarize, type Summary } from '../stats';

export interface BusyLoadResult<T> {
  /** What ran while the load did. */
  result: T;
  /** The P1 hit load's req/s, one value per slice of the background load (proof it kept running). */
  backgroundRequestsPerSecond: Summary;
  backgroundErrors: number;
}

/** Length of one slice of the background load: short, so it stops soon after the case ends. */
const SLICE_SECONDS = 2;

/**
 * Runs `fn` while the P1 load (cached GET /products/:id, `connections` keep-alive connections)
 * hammers the catalog from a load generator of its own, so the case's own requests (a burst, a
 * poll loop) are not queued behind it in one process. The load runs in slices until `fn` ends.
 */
export async function underP1Load<T>(
  opts: { catalogUrl: string; productId: number; connections: number },
  fn: () => Promise<T>,
): Promise<BusyLoadResult<T>> {
  const url = `${opts.catalogUrl}/products/${opts.productId}`;
  // The load's product is cached before the load starts and the generator has answered once, so
  // its first miss (a loader call) cannot land inside a case that counts loader calls.
  await untilHit(url);
  const background = LoadGenerator.start();
  try {
    const first = await background.run({ kind: 'burst', urls: [url], timeoutMs: 10_000 });
    if (first.ok !== 1)
      throw new Error(`the P1 load's first request failed: ${JSON.stringify(first.statusCodes)}`);
  } catch (err) {
    await background.stop();
    throw err;
  }
  const rates: number[] = [];
  let errors = 0;
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const slice = await background.run({
        kind: 'fixed',
        url,
        connections: opts.connections,
        durationSeconds: SLICE_SECONDS,
      });
      rates.push(slice.requestsPerSecond);
      errors += slice.errors + slice.non2xx;
    }
  })();
  let result: T;
  try {
    // The first slice is under way before the case starts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    result = await fn();
  } finally {
    stopped = true;
    await running.catch(() => undefined);
    await background.stop();
  }
  return {
    result,
    backgroundRequestsPerSecond: summarize(rates.length > 0 ? rates : [0]),
    backgroundErrors: errors,
  };
}
