import type { BackgroundTasks } from './background-tasks.js';
import type { CacheFailures } from './cache-failures.js';
import type { CacheLeases, Held } from './cache-leases.js';
import type { CacheItemLike, CacheStatus, CacheStore, ResolvedOptions } from './cache-options.js';
import type { CacheWriter } from './cache-writer.js';
import type { EntryPolicy } from './entry-policy.js';
import type { CacheEntry, DecodedItem } from './entry.js';
import { pollDelayMs, sleep, type ResolvedLeaseOptions } from './lease.js';
import { errorFields, type RateLimitedLogger } from './logger.js';
import type { CacheRequestResult } from './metrics.js';
import type { TimedLoader } from './timed-loader.js';

/** One key's read past the first cache get: what it may fall back on, and the failure it met. */
export class KeyRead {
  readonly key: string;
  /** An entry within its grace window seen on the way: served if the load fails (stale-if-error). */
  fallback: CacheEntry<unknown> | undefined = undefined;
  /** Set when the read hit a cache failure (the request then counts as error/bypass). */
  failure: CacheRequestResult | null = null;

  constructor(key: string) {
    this.key = key;
  }

  /** The request metric of this read's outcome. */
  metric(status: CacheStatus): CacheRequestResult {
    if (status === 'stale' || status === 'hit') return status;
    return this.failure ?? (status === 'bypass' ? 'error' : 'miss');
  }
}

/**
 * What to do next with a key:
 * - `done`: a value is there (a hit, or a stale value served while one refresher reloads);
 * - `load`: call the loader; with `lease` this process is the key's one loader in the cluster
 *   and writes the result under it, without it the result is returned and not written;
 * - `wait`: another process holds the key's lease (or its refresh lease): wait for its value.
 */
export type ReadStep =
  | { kind: 'done'; value: unknown; status: 'hit' | 'stale' }
  | { kind: 'load'; lease: Held | null; status: 'miss' | 'bypass' }
  | { kind: 'wait' };

/** A step that is not `wait`: where every wait ends. */
export type SettledStep = Exclude<ReadStep, { kind: 'wait' }>;

export interface LoadedValue {
  value: unknown;
  status: CacheStatus;
}

const WAIT: ReadStep = { kind: 'wait' };
/** With leases off: load and write with a plain `set` (no CAS, nothing to release). */
const LOAD_AND_SET: ReadStep = { kind: 'load', lease: {}, status: 'miss' };

/**
 * The per-key read state machine, the one implementation behind both read paths: the single-key
 * path drives it one key at a time, the batch path drives it for every key of the batch while
 * it batches the cache reads (getMany) and the loads (one loader call for the keys it won).
 *
 * From EntryPolicy.classify: fresh -> hit; soft-expired -> stale + one background refresh;
 * hard-expired -> reload under the refresh lease of that item; absent or corrupt -> reload under
 * a placeholder lease; somebody else's lease -> wait while it is alive; a cache failure -> load
 * without the cache (bypass).
 */
export class ReadMachine {
  readonly #store: CacheStore;
  readonly #policy: EntryPolicy;
  readonly #leases: CacheLeases;
  readonly #writer: CacheWriter;
  readonly #failures: CacheFailures;
  readonly #background: BackgroundTasks;
  readonly #refreshing = new Set<string>();
  readonly #log: RateLimitedLogger;
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
    this.#loads = opts.loads;
    this.#lease = opts.lease;
    this.#clock = opts.clock;
    this.#random = opts.random;
  }

  /**
   * The step after reading `item` (`decoded` when the caller decoded it already). Takes the
   * key's lease when it is free: a placeholder `add` for an absent or corrupt key, the refresh
   * lease for a hard-expired one. `loadOne` is the single-key loader a background refresh uses.
   */
  async next(
    read: KeyRead,
    item: CacheItemLike | null,
    decoded: DecodedItem | null,
    loadOne: () => Promise<unknown>,
    o: ResolvedOptions,
  ): Promise<ReadStep> {
    const key = read.key;
    const now = this.#clock();
    const found = this.#policy.classify(key, item, decoded, now, o);
    if (found.kind === 'lease') return WAIT;
    if (found.kind === 'corrupt') {
      // Deleted first, so the placeholder add below can take the key.
      await this.#writer.deleteQuietly(key);
    } else if (found.kind !== 'absent') {
      const entry = found.entry;
      const cas = (item as CacheItemLike).cas;
      if (entry.graceUntil > now) read.fallback = entry;
      if (found.kind === 'fresh') return { kind: 'done', value: entry.value, status: 'hit' };
      if (found.kind === 'stale') {
        this.#refreshInBackground(key, cas, loadOne, o);
        return { kind: 'done', value: entry.value, status: 'stale' };
      }
      if (!this.#lease.enabled) return LOAD_AND_SET;
      // Tried again on every poll: a refresher that died leaves a refresh lease that expires.
      const refresh = await this.#leases.acquireRefresh(key, cas);
      if (refresh.state === 'won')
        return { kind: 'load', lease: { cas, lease: refresh.lease }, status: 'miss' };
      if (refresh.state === 'lost') return WAIT;
      read.failure = 'error';
      return { kind: 'load', lease: null, status: 'miss' };
    }
    if (!this.#lease.enabled) return LOAD_AND_SET;
    let lease: Held | null;
    try {
      lease = await this.#leases.addPlaceholder(key);
    } catch (err) {
      read.failure = this.#failures.report('add', key, err);
      return { kind: 'load', lease: null, status: 'miss' };
    }
    return lease === null ? WAIT : { kind: 'load', lease, status: 'miss' };
  }

  /**
   * Waits for the values of keys whose lease another process holds: polls (with backoff) while
   * those leases are alive, and takes a lease over when it disappears without a value (a holder
   * that died: its placeholder expires after the lease TTL; one that failed: it released it).
   * Each poll reads every key still waiting in one round (a get for one key, a getMany for a
   * batch's). The wait ends at `lease.leaseWaitMs` or when the caller's `deadline` aborts,
   * whichever is first; the keys still waiting are then loaded without writing. One settled
   * step per read, in order.
   */
  async wait(
    reads: KeyRead[],
    loadOne: (key: string) => () => Promise<unknown>,
    o: ResolvedOptions,
  ): Promise<SettledStep[]> {
    // Real elapsed time, not the injectable wall clock: this bounds how long the caller waits.
    const until = performance.now() + Math.min(this.#lease.leaseWaitMs, msUntil(o.deadline));
    const deadline = typeof o.deadline === 'number' ? undefined : o.deadline;
    const settled = new Array<SettledStep>(reads.length);
    let waiting = reads.map((_, i) => i);
    for (let attempt = 0; waiting.length > 0; attempt += 1) {
      const left = until - performance.now();
      if (left > 0 && !deadline?.aborted) {
        await sleep(Math.min(left, pollDelayMs(this.#lease, attempt, this.#random)), deadline);
      }
      if (left <= 0 || deadline?.aborted) {
        for (const i of waiting) settled[i] = { kind: 'load', lease: null, status: 'miss' };
        break;
      }
      const pending = waiting.map((i) => reads[i] as KeyRead);
      const { found, failed, failure } = await this.#readAll(pending.map((read) => read.key));
      const steps = await Promise.all(
        pending.map((read): Promise<ReadStep> => {
          if (!failed.has(read.key))
            return this.next(read, found.get(read.key) ?? null, null, loadOne(read.key), o);
          read.failure = failure;
          return Promise.resolve({ kind: 'load', lease: null, status: 'bypass' });
        }),
      );
      waiting = waiting.filter((i, j) => {
        const step = steps[j] as ReadStep;
        if (step.kind === 'wait') return true;
        settled[i] = step;
        return false;
      });
    }
    return settled;
  }

  /** One round of reads: a get for one key, a getMany for more; a failure fails every key. */
  async #readAll(
    keys: string[],
  ): Promise<{ found: Map<string, CacheItemLike>; failed: Set<string>; failure: CacheRequestResult }> {
    const [first] = keys as [string];
    try {
      if (keys.length > 1) return { ...(await this.#store.getMany(keys)), failure: 'error' };
      const item = await this.#store.get(first);
      return { found: item ? new Map([[first, item]]) : new Map(), failed: new Set(), failure: 'error' };
    } catch (err) {
      const failure = this.#failures.report(keys.length > 1 ? 'getMany' : 'get', first, err);
      return { found: new Map(), failed: new Set(keys), failure };
    }
  }

  /** A `load` step for one key: loads, writes under the lease if held, falls back on a stale value on error. */
  async load(
    read: KeyRead,
    step: { lease: Held | null; status: 'miss' | 'bypass' },
    loader: () => Promise<unknown>,
    o: ResolvedOptions,
  ): Promise<LoadedValue> {
    const loadedAt = this.#clock();
    let value: unknown;
    try {
      value = await this.#loads.run(o.entity, read.key, loader);
    } catch (err) {
      // Awaited (one round trip) so the next request can take the lease instead of waiting.
      if (step.lease?.lease) await this.#leases.releaseNow(step.lease.lease);
      return this.fallbackOr(read, err);
    }
    if (step.lease) this.#writer.populate(read.key, value, o, step.lease, loadedAt);
    return { value, status: step.status };
  }

  /** Stale-if-error: the read's fallback entry when it may be served, else the error is rethrown. */
  fallbackOr(read: KeyRead, err: unknown): LoadedValue {
    if (!this.#policy.servableOnError(read.fallback)) throw err;
    return { value: read.fallback?.value, status: 'stale' };
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
          const refresh = this.#lease.enabled ? await this.#leases.acquireRefresh(key, cas) : null;
          if (refresh && refresh.state !== 'won') return;
          const loadedAt = this.#clock();
          let value: unknown;
          try {
            value = await this.#loads.run(o.entity, key, loader);
          } catch (err) {
            if (refresh) await this.#leases.releaseNow(refresh.lease);
            throw err;
          }
          this.#writer.populate(key, value, o, refresh ? { cas } : {}, loadedAt);
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

/** Time left before a numeric deadline (epoch ms on Date.now's clock); Infinity for none or a signal. */
function msUntil(deadline: AbortSignal | number | undefined): number {
  return typeof deadline === 'number' ? Math.max(0, deadline - Date.now()) : Infinity;
}
