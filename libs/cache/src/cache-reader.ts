import type { Span } from '@opentelemetry/api';
import type { BackgroundTasks } from './background-tasks.js';
import type { CacheFailures } from './cache-failures.js';
import type { CacheLeases, Held } from './cache-leases.js';
import type {
  CacheItemLike,
  CacheResult,
  CacheStatus,
  CacheStore,
  ResolvedOptions,
} from './cache-options.js';
import type { CacheWriter, PopulateWrite } from './cache-writer.js';
import type { EntryPolicy } from './entry-policy.js';
import type { CacheEntry, DecodedItem } from './entry.js';
import { pollDelayMs, sleep, type ResolvedLeaseOptions } from './lease.js';
import { errorFields, type RateLimitedLogger } from './logger.js';
import type { CacheMetrics, CacheRequestResult } from './metrics.js';
import type { TimedLoader } from './timed-loader.js';

interface Outcome {
  value: unknown;
  status: CacheStatus;
  metric: CacheRequestResult;
}

/** Set when the request hit a cache failure on the way (it is then counted as error/bypass). */
interface FailureState {
  failure: CacheRequestResult | null;
}

/** The result of one key's read, shared by the concurrent callers of that key. */
export type Flight =
  | { ok: true; value: unknown; status: CacheStatus; metric: CacheRequestResult }
  | { ok: false; error: unknown; metric: CacheRequestResult };

/**
 * The read paths. Both decide on a key from EntryPolicy.classify (fresh -> hit; soft-expired ->
 * stale + background refresh; hard-expired -> reload under the refresh lease; absent or corrupt
 * -> reload under a placeholder lease; somebody else's lease -> wait or load). They differ only
 * in the last case: a single key polls for the other process's value, a batch loads it itself.
 */
export class CacheReader {
  readonly #store: CacheStore;
  readonly #policy: EntryPolicy;
  readonly #leases: CacheLeases;
  readonly #writer: CacheWriter;
  readonly #failures: CacheFailures;
  readonly #background: BackgroundTasks;
  readonly #refreshing = new Set<string>();
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #loads: TimedLoader;
  readonly #lease: ResolvedLeaseOptions;
  readonly #clock: () => number;
  readonly #random: () => number;

  constructor(opts: {
    store: CacheStore;
    policy: EntryPolicy;
    leases: CacheLeases;
    writer: CacheWriter;
    failures: CacheFailures;
    background: BackgroundTasks;
    log: RateLimitedLogger;
    metrics: CacheMetrics;
    loads: TimedLoader;
    lease: ResolvedLeaseOptions;
    clock: () => number;
    random: () => number;
  }) {
    this.#store = opts.store;
    this.#policy = opts.policy;
    this.#leases = opts.leases;
    this.#writer = opts.writer;
    this.#failures = opts.failures;
    this.#background = opts.background;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#loads = opts.loads;
    this.#lease = opts.lease;
    this.#clock = opts.clock;
    this.#random = opts.random;
  }

  /**
   * The work shared by concurrent callers of one key. A fresh entry is settled right here
   * (one cluster get, one decode and validate, no further awaits); everything else goes through
   * #resolveItem with the item already decoded.
   */
  async flight(key: string, loader: () => Promise<unknown>, o: ResolvedOptions): Promise<Flight> {
    const state: FailureState = { failure: null };
    try {
      let item: CacheItemLike | null;
      try {
        item = await this.#store.get(key);
      } catch (err) {
        state.failure = this.#failures.report('get', key, err);
        const value = await this.#loads.run(o.entity, key, loader);
        return { ok: true, value, status: 'bypass', metric: state.failure };
      }
      let decoded: DecodedItem | null = null;
      if (item !== null) {
        decoded = this.#policy.decode(key, item, o);
        if (decoded.kind === 'entry') {
          const entry = decoded.entry;
          if (this.#policy.freshness(entry, this.#clock(), o) === 'fresh') {
            return { ok: true, value: entry.value, status: 'hit', metric: 'hit' };
          }
        }
      }
      const outcome = await this.#resolveItem(key, item, decoded, loader, o, state);
      // A request that touched a failing cache counts as error/bypass unless it served stale.
      const metric = outcome.status === 'stale' ? 'stale' : (state.failure ?? outcome.metric);
      return { ok: true, value: outcome.value, status: outcome.status, metric };
    } catch (error) {
      return { ok: false, error, metric: state.failure ?? 'miss' };
    }
  }

  /** See Cache.getManyOrLoad; `keys` are unique and not empty. Records one request metric per key. */
  async batch(
    keys: string[],
    loader: (missing: string[]) => Promise<Map<string, unknown>>,
    o: ResolvedOptions,
    span: Span | undefined,
  ): Promise<Map<string, CacheResult<unknown>>> {
    const results = new Map<string, CacheResult<unknown>>();
    const metrics = new Map<string, CacheRequestResult>();
    let found = new Map<string, CacheItemLike>();
    let failed = new Set<string>();
    try {
      ({ found, failed } = await this.#store.getMany(keys));
    } catch (err) {
      const metric = this.#failures.report('getMany', keys[0] as string, err);
      failed = new Set(keys);
      for (const key of keys) metrics.set(key, metric);
    }

    const toLoad: string[] = [];
    const held = new Map<string, Held>();
    const fallbacks = new Map<string, CacheEntry<unknown>>();
    const absent: string[] = [];
    const corrupt: string[] = [];
    const expired: Array<{ key: string; cas: bigint }> = [];
    const now = this.#clock();
    const single = (key: string) => async () => (await loader([key])).get(key) ?? null;

    for (const key of keys) {
      if (failed.has(key)) {
        if (!metrics.has(key)) metrics.set(key, 'error');
        toLoad.push(key);
        continue;
      }
      const item = found.get(key) ?? null;
      const state = this.#policy.classify(key, item, null, now, o);
      switch (state.kind) {
        case 'corrupt':
          corrupt.push(key);
          absent.push(key);
          continue;
        case 'absent':
          absent.push(key);
          continue;
        case 'lease':
          toLoad.push(key);
          continue;
      }
      if (state.entry.graceUntil > now) fallbacks.set(key, state.entry);
      if (state.kind === 'fresh') {
        results.set(key, { value: state.entry.value, status: 'hit' });
        metrics.set(key, 'hit');
      } else if (state.kind === 'stale') {
        results.set(key, { value: state.entry.value, status: 'stale' });
        metrics.set(key, 'stale');
        this.#refreshInBackground(key, (item as CacheItemLike).cas, single(key), o);
      } else {
        expired.push({ key, cas: (item as CacheItemLike).cas });
      }
    }

    // Corrupt entries go first, so the placeholder add below can take their key.
    await Promise.all(corrupt.map((key) => this.#writer.deleteQuietly(key)));
    await Promise.all([
      ...expired.map(async ({ key, cas }) => {
        const refresh = await this.#leases.acquireRefresh(key, cas);
        if (refresh.state === 'won') held.set(key, { cas, lease: refresh.lease });
        toLoad.push(key);
      }),
      ...absent.map(async (key) => {
        try {
          const lease = await this.#leases.addPlaceholder(key);
          if (lease !== null) held.set(key, lease);
        } catch (err) {
          metrics.set(key, this.#failures.report('add', key, err));
        }
        toLoad.push(key);
      }),
    ]);

    if (toLoad.length > 0) {
      let loaded: Map<string, unknown>;
      try {
        loaded = await this.#loads.run(o.entity, toLoad.length === 1 ? toLoad[0] : undefined, () =>
          loader(toLoad),
        );
      } catch (err) {
        for (const { lease } of held.values()) if (lease) this.#leases.release(lease);
        const missingFallback = toLoad.some((key) => !this.#policy.servableOnError(fallbacks.get(key)));
        if (missingFallback) {
          for (const key of keys) this.#metrics.recordRequest(o.entity, metrics.get(key) ?? 'miss');
          throw err;
        }
        for (const key of toLoad) {
          results.set(key, { value: fallbacks.get(key)?.value, status: 'stale' });
          metrics.set(key, 'stale');
        }
        loaded = new Map();
      }
      const writes: PopulateWrite[] = [];
      for (const key of toLoad) {
        if (results.has(key)) continue;
        const value = loaded.get(key) ?? null;
        results.set(key, { value, status: failed.has(key) ? 'bypass' : 'miss' });
        if (!metrics.has(key)) metrics.set(key, 'miss');
        const lease = held.get(key);
        if (lease) writes.push({ key, value, lease });
      }
      this.#writer.populateMany(writes, o, now);
    }
    for (const key of keys) this.#metrics.recordRequest(o.entity, metrics.get(key) ?? 'miss');
    span?.setAttribute('cache.hits', [...results.values()].filter((r) => r.status === 'hit').length);
    // In the caller's key order.
    return new Map(keys.map((key) => [key, results.get(key) as CacheResult<unknown>]));
  }

  /**
   * The single-key state machine past the hit; somebody else's lease -> poll until
   * `leaseWaitMs`, then load without writing (the bound on how long a request ever waits for
   * another process).
   */
  async #resolveItem(
    key: string,
    first: CacheItemLike | null,
    firstDecoded: DecodedItem | null,
    loader: () => Promise<unknown>,
    o: ResolvedOptions,
    state: FailureState,
  ): Promise<Outcome> {
    // Real elapsed time, not the injectable wall clock: this bounds how long the caller waits.
    const deadline = performance.now() + this.#lease.leaseWaitMs;
    let item = first;
    let fallback: CacheEntry<unknown> | undefined;
    let refreshHeldElsewhereFor: bigint | null = null;
    let predecoded = firstDecoded;

    for (;;) {
      const now = this.#clock();
      let found = this.#policy.classify(key, item, predecoded, now, o);
      predecoded = null;
      if (found.kind === 'corrupt') {
        await this.#writer.deleteQuietly(key);
        item = null;
        found = { kind: 'absent' };
      }

      if (item && 'entry' in found) {
        const entry = found.entry;
        if (entry.graceUntil > now) fallback = entry;
        if (found.kind === 'fresh') return { value: entry.value, status: 'hit', metric: 'hit' };
        if (found.kind === 'stale') {
          this.#refreshInBackground(key, item.cas, loader, o);
          return { value: entry.value, status: 'stale', metric: 'stale' };
        }
        if (refreshHeldElsewhereFor !== item.cas) {
          const refresh = await this.#leases.acquireRefresh(key, item.cas);
          if (refresh.state === 'won') {
            return this.#loadAndPopulate(key, loader, o, { cas: item.cas, lease: refresh.lease }, fallback);
          }
          if (refresh.state === 'error') {
            state.failure = 'error';
            return this.#loadWithoutPopulate(key, loader, o, fallback, 'miss');
          }
          refreshHeldElsewhereFor = item.cas;
        }
      } else if (!item) {
        let lease: Held | null;
        try {
          lease = await this.#leases.addPlaceholder(key);
        } catch (err) {
          state.failure = this.#failures.report('add', key, err);
          return this.#loadWithoutPopulate(key, loader, o, fallback, 'miss');
        }
        if (lease !== null) return this.#loadAndPopulate(key, loader, o, lease, fallback);
      }

      // Another process holds the key's lease (or refresh lease): wait for its value.
      if (performance.now() >= deadline) return this.#loadWithoutPopulate(key, loader, o, fallback, 'miss');
      await sleep(pollDelayMs(this.#lease, this.#random));
      try {
        item = await this.#store.get(key);
      } catch (err) {
        state.failure = this.#failures.report('get', key, err);
        return this.#loadWithoutPopulate(key, loader, o, fallback, 'bypass');
      }
    }
  }

  async #loadAndPopulate(
    key: string,
    loader: () => Promise<unknown>,
    o: ResolvedOptions,
    lease: Held,
    fallback: CacheEntry<unknown> | undefined,
  ): Promise<Outcome> {
    const loadedAt = this.#clock();
    let value: unknown;
    try {
      value = await this.#loads.run(o.entity, key, loader);
    } catch (err) {
      // Awaited (one round trip) so the next request can take the lease instead of polling.
      if (lease.lease) await this.#leases.releaseNow(lease.lease);
      if (this.#policy.servableOnError(fallback))
        return { value: fallback?.value, status: 'stale', metric: 'stale' };
      throw err;
    }
    this.#writer.populate(key, value, o, lease, loadedAt);
    return { value, status: 'miss', metric: 'miss' };
  }

  async #loadWithoutPopulate(
    key: string,
    loader: () => Promise<unknown>,
    o: ResolvedOptions,
    fallback: CacheEntry<unknown> | undefined,
    status: 'miss' | 'bypass',
  ): Promise<Outcome> {
    try {
      return {
        value: await this.#loads.run(o.entity, key, loader),
        status,
        metric: status === 'bypass' ? 'error' : 'miss',
      };
    } catch (err) {
      if (this.#policy.servableOnError(fallback))
        return { value: fallback?.value, status: 'stale', metric: 'stale' };
      throw err;
    }
  }

  /**
   * Stale-while-revalidate: at most one refresh per key in this process (#refreshing) and one
   * per stale item in the cluster (the refresh lease of that item's CAS).
   */
  #refreshInBackground(key: string, cas: bigint, loader: () => Promise<unknown>, o: ResolvedOptions): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    this.#background.track(
      (async () => {
        try {
          const refresh = await this.#leases.acquireRefresh(key, cas);
          if (refresh.state !== 'won') return;
          const loadedAt = this.#clock();
          let value: unknown;
          try {
            value = await this.#loads.run(o.entity, key, loader);
          } catch (err) {
            await this.#leases.releaseNow(refresh.lease);
            throw err;
          }
          this.#writer.populate(key, value, o, { cas }, loadedAt);
        } catch (err) {
          this.#log.warn(
            'refresh-failed',
            { key, ...errorFields(err) },
            'background refresh failed, stale value kept',
          );
        } finally {
          this.#refreshing.delete(key);
        }
      })(),
    );
  }
}
