import type { Span, Tracer } from '@opentelemetry/api';
import { defaultEntryCodec, type CacheEntry, type DecodedItem, type EntryCodec } from './entry.js';
import { CacheUnavailableError, CacheWriteNotConfirmedError } from './errors.js';
import { toMemcachedKey } from './keys.js';
import type { InvalidationFeedStatus } from './invalidation-bus.js';
import {
  newLeaseToken,
  pollDelayMs,
  refreshLeaseKey,
  resolveLeaseOptions,
  sleep,
  type LeaseOptions,
  type ResolvedLeaseOptions,
} from './lease.js';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from './logger.js';
import { noopCacheMetrics, type CacheMetrics, type CacheRequestResult, type PopulateResult } from './metrics.js';
import { PopulateQueue, type PopulateQueueOptions } from './populate-queue.js';
import { SingleFlight } from './single-flight.js';
import { CacheTracing, hasDiagnosticSubscribers, publishDiagnostic } from './tracing.js';

export type CacheStatus = 'hit' | 'miss' | 'stale' | 'bypass';

export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
}

export interface GetOrLoadOptions<T> {
  /** Metrics label and gap-rule namespace, e.g. 'product'. Default 'default'. */
  namespace?: string;
  /** Fresh lifetime (soft expiry), jittered by +-`jitterRatio`. Default 300. */
  ttlSeconds?: number;
  /** After soft expiry, served stale while one refresher reloads (SWR). Default 60. */
  staleSeconds?: number;
  /** Stale-if-error: after soft expiry, served when the loader throws. Default 600. */
  graceSeconds?: number;
  /** A loader result of null is cached this long. Default 30. */
  negativeTtlSeconds?: number;
  /** Shape check on read; a failure means corrupt, which is a miss (and the entry is replaced). */
  validate?: (v: unknown) => v is T;
  /**
   * The entity's own version (a row version column). Recorded on populate so that a delayed
   * `writeThrough` of an older version cannot replace a value loaded after it. Default: none.
   */
  versionOf?: (v: T) => number | undefined;
}

export type CacheDefaults = Required<Omit<GetOrLoadOptions<unknown>, 'validate' | 'versionOf'>> & {
  /** TTL jitter, so entries written together don't expire together. Default 0.1 (+-10%). */
  jitterRatio: number;
};

/** The cluster operations Cache uses (CacheCluster implements them). */
export interface CacheItemLike {
  value: Buffer;
  flags: number;
  cas: bigint;
}
export interface CacheStore {
  get(key: string): Promise<CacheItemLike | null>;
  /**
   * Optional: many (CAS) sets in one round per node, per entry 'stored' / 'not_stored' / 'failed'
   * (CacheCluster has it). Without it, batch populates send one set per key.
   */
  setMany?(
    entries: Array<{ key: string; value: Buffer; ttlSeconds: number; cas?: bigint }>,
  ): Promise<Array<'stored' | 'not_stored' | 'failed'>>;
  getMany(keys: string[]): Promise<{ found: Map<string, CacheItemLike>; failed: Set<string> }>;
  set(
    key: string,
    value: Buffer,
    ttlSeconds: number,
    opts?: { cas?: bigint; flags?: number },
  ): Promise<boolean>;
  add(key: string, value: Buffer, ttlSeconds: number, opts?: { flags?: number }): Promise<bigint | null>;
  delete(key: string): Promise<boolean>;
  incr(
    key: string,
    delta: number | bigint,
    opts?: { initial?: bigint; ttlSeconds?: number },
  ): Promise<bigint>;
}

export interface CacheOptions {
  cluster: CacheStore;
  logger?: LoggerLike;
  metrics?: CacheMetrics;
  tracer?: Tracer;
  /** epoch ms; injected by tests */
  clock?: () => number;
  /** [0, 1); injected by tests (jitter, poll delays) */
  random?: () => number;
  defaults?: Partial<CacheDefaults>;
  populate?: PopulateQueueOptions;
  lease?: LeaseOptions;
  /** Encoded entries above this are not written (counted `skipped_too_large`). Default 1000000 (memcached -I 1m less headers). */
  maxValueBytes?: number;
  /** Prefix of namespace-version counters. Default 'memshop:ns:'. */
  namespaceKeyPrefix?: string;
  /** Fresh TTL cap for entries of event-fed namespaces written while the event consumer is disconnected. Default 5. */
  gapTtlSeconds?: number;
  /** How entries and lease placeholders are serialised. Default: the codec.ts envelope. */
  codec?: EntryCodec;
}

type ResolvedOptions = CacheDefaults & {
  validate?: (v: unknown) => boolean;
  versionOf?: (v: unknown) => number | undefined;
};

interface Outcome {
  value: unknown;
  status: CacheStatus;
  metric: CacheRequestResult;
}

/** Set when the request hit a cache failure on the way (it is then counted as error/bypass). */
interface FailureState {
  failure: CacheRequestResult | null;
}

type Flight =
  | { ok: true; value: unknown; status: CacheStatus; metric: CacheRequestResult }
  | { ok: false; error: unknown; metric: CacheRequestResult };

/** A loaded value to write under the lease this process holds on its key. */
interface PopulateWrite {
  key: string;
  value: unknown;
  lease: Held;
}

/** A lease this process holds on a key: where the populate's CAS comes from. */
interface Held {
  cas: bigint;
  /** the placeholder (under the key itself, or the refresh-lease key) released if the load fails */
  lease?: { key: string; token: string };
}

const MAX_RELATIVE_TTL_SECONDS = 60 * 60 * 24 * 30;
const WRITE_THROUGH_ATTEMPTS = 5;

/**
 * Cache-aside over a memcached cluster with the holes of the plain pattern closed:
 * leases against stale sets and cross-process stampedes, in-process single-flight, soft expiry
 * with stale-while-revalidate, stale-if-error, negative caching, corrupt entries as misses,
 * background population through a bounded queue. A cache failure never reaches the caller.
 */
export class Cache {
  readonly #store: CacheStore;
  readonly #codec: EntryCodec;
  readonly #defaults: CacheDefaults;
  readonly #lease: ResolvedLeaseOptions;
  readonly #queue: PopulateQueue;
  readonly #flights = new SingleFlight<Flight>();
  readonly #refreshing = new Set<string>();
  readonly #background = new Set<Promise<void>>();
  readonly #logger: LoggerLike;
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #tracing: CacheTracing;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #maxValueBytes: number;
  readonly #namespaceKeyPrefix: string;
  readonly #gapTtlSeconds: number;
  #feed: { status: InvalidationFeedStatus; namespaces: Set<string>; off: () => void } | null = null;

  constructor(opts: CacheOptions) {
    this.#store = opts.cluster;
    this.#codec = opts.codec ?? defaultEntryCodec;
    this.#defaults = {
      namespace: 'default',
      ttlSeconds: 300,
      staleSeconds: 60,
      graceSeconds: 600,
      negativeTtlSeconds: 30,
      jitterRatio: 0.1,
      ...opts.defaults,
    };
    this.#lease = resolveLeaseOptions(opts.lease);
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? Date.now;
    this.#log = new RateLimitedLogger(this.#logger, { clock: this.#clock });
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#tracing = new CacheTracing(opts.tracer);
    this.#random = opts.random ?? Math.random;
    this.#queue = new PopulateQueue({ ...opts.populate, metrics: this.#metrics, logger: this.#log });
    this.#maxValueBytes = opts.maxValueBytes ?? 1_000_000;
    this.#namespaceKeyPrefix = opts.namespaceKeyPrefix ?? 'memshop:ns:';
    this.#gapTtlSeconds = opts.gapTtlSeconds ?? 5;
  }

  /**
   * The value of `key`: from the cache when fresh, else from `loader` (returned at once, the
   * cache is written in the background). Concurrent calls for one key in this process share
   * one cache read and at most one loader call; across processes one loader runs per key
   * (leases), others wait up to `leaseWaitMs`. Loader errors reach the caller unless a value
   * within `graceSeconds` can be served (`status: 'stale'`).
   */
  getOrLoad<T>(
    key: string,
    loader: () => Promise<T | null>,
    opts: GetOrLoadOptions<T> = {},
  ): Promise<CacheResult<T | null>> {
    const o = this.#resolve(opts);
    if (!this.#tracing.active) return this.#getOrLoadShared(key, loader, o, undefined);
    return this.#tracing.span('cache.get', { 'cache.key': key, 'cache.namespace': o.namespace }, (span) =>
      this.#getOrLoadShared(key, loader, o, span),
    );
  }

  /** One caller's share of the key's flight: its own metric, span attributes and result object. */
  async #getOrLoadShared<T>(
    key: string,
    loader: () => Promise<T | null>,
    o: ResolvedOptions,
    span: Span | undefined,
  ): Promise<CacheResult<T | null>> {
    const flight = await this.#flights.run(key, () => this.#flight(key, loader, o));
    this.#metrics.recordRequest(o.namespace, flight.metric);
    if (!flight.ok) throw flight.error;
    const status = flight.status;
    if (span) {
      span.setAttribute('cache.hit', status === 'hit');
      span.setAttribute('cache.status', status);
    }
    if (hasDiagnosticSubscribers('get')) publishDiagnostic('get', { key, namespace: o.namespace, status });
    return { value: flight.value as T | null, status };
  }

  /**
   * The work shared by concurrent callers of one key. A fresh entry is settled right here
   * (one cluster get, one decode and validate, no further awaits); everything else goes through
   * #resolveItem's state machine with the item already decoded.
   */
  async #flight(key: string, loader: () => Promise<unknown>, o: ResolvedOptions): Promise<Flight> {
    const state: FailureState = { failure: null };
    try {
      let item: CacheItemLike | null;
      try {
        item = await this.#store.get(key);
      } catch (err) {
        state.failure = this.#cacheFailure('get', key, err);
        const value = await this.#timedLoad(o.namespace, key, loader);
        return { ok: true, value, status: 'bypass', metric: state.failure };
      }
      let decoded: DecodedItem | null = null;
      if (item !== null) {
        decoded = this.#decode(key, item, o);
        if (decoded.kind === 'entry') {
          const entry = decoded.entry;
          if (this.#freshness(entry, this.#clock(), o) === 'fresh') {
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

  /**
   * Batch form: one cluster getMany round and one loader call for every key that needs a load.
   * Keys another process is loading are loaded here too (without writing the cache) rather than
   * waited for: a batch should not take the latency of its slowest key's lease.
   */
  async getManyOrLoad<T>(
    keys: string[],
    loader: (missing: string[]) => Promise<Map<string, T | null>>,
    opts: GetOrLoadOptions<T> = {},
  ): Promise<Map<string, CacheResult<T | null>>> {
    const o = this.#resolve(opts);
    const unique = [...new Set(keys)];
    const results = new Map<string, CacheResult<T | null>>();
    const metrics = new Map<string, CacheRequestResult>();
    if (unique.length === 0) return results;

    const batch = async (span: Span | undefined): Promise<Map<string, CacheResult<T | null>>> => {
      let found = new Map<string, CacheItemLike>();
      let failed = new Set<string>();
      try {
        ({ found, failed } = await this.#store.getMany(unique));
      } catch (err) {
        const metric = this.#cacheFailure('getMany', unique[0] as string, err);
        failed = new Set(unique);
        for (const key of unique) metrics.set(key, metric);
      }

      const toLoad: string[] = [];
      const held = new Map<string, Held>();
      const fallbacks = new Map<string, CacheEntry<unknown>>();
      const absent: string[] = [];
      const corrupt: string[] = [];
      const expired: Array<{ key: string; cas: bigint }> = [];
      const now = this.#clock();
      const single = (key: string) => async () => (await loader([key])).get(key) ?? null;

      for (const key of unique) {
        if (failed.has(key)) {
          if (!metrics.has(key)) metrics.set(key, 'error');
          toLoad.push(key);
          continue;
        }
        const item = found.get(key);
        const decoded = item ? this.#decode(key, item, o) : null;
        if (!item || !decoded || decoded.kind === 'corrupt') {
          if (decoded?.kind === 'corrupt') corrupt.push(key);
          absent.push(key);
          continue;
        }
        if (decoded.kind === 'lease') {
          toLoad.push(key);
          continue;
        }
        const entry = decoded.entry;
        if (entry.graceUntil > now) fallbacks.set(key, entry);
        const freshness = this.#freshness(entry, now, o);
        if (freshness === 'fresh') {
          results.set(key, { value: entry.value as T | null, status: 'hit' });
          metrics.set(key, 'hit');
        } else if (freshness === 'stale') {
          results.set(key, { value: entry.value as T | null, status: 'stale' });
          metrics.set(key, 'stale');
          this.#refreshInBackground(key, item.cas, single(key), o);
        } else {
          expired.push({ key, cas: item.cas });
        }
      }

      // Corrupt entries go first, so the placeholder add below can take their key.
      await Promise.all(corrupt.map((key) => this.#deleteQuietly(key)));
      await Promise.all([
        ...expired.map(async ({ key, cas }) => {
          const refresh = await this.#acquireRefreshLease(key, cas);
          if (refresh.state === 'won') held.set(key, { cas, lease: refresh.lease });
          toLoad.push(key);
        }),
        ...absent.map(async (key) => {
          const token = newLeaseToken();
          try {
            const cas = await this.#store.add(
              key,
              this.#codec.encodeLease(token),
              this.#lease.leaseTtlSeconds,
            );
            if (cas !== null) held.set(key, { cas, lease: { key, token } });
          } catch (err) {
            metrics.set(key, this.#cacheFailure('add', key, err));
          }
          toLoad.push(key);
        }),
      ]);

      if (toLoad.length > 0) {
        let loaded: Map<string, T | null>;
        try {
          loaded = await this.#timedLoad(o.namespace, toLoad.length === 1 ? toLoad[0] : undefined, () =>
            loader(toLoad),
          );
        } catch (err) {
          for (const { lease } of held.values()) if (lease) this.#releaseLease(lease);
          const missingFallback = toLoad.some((key) => !this.#servableOnError(fallbacks.get(key)));
          if (missingFallback) {
            for (const key of unique) this.#metrics.recordRequest(o.namespace, metrics.get(key) ?? 'miss');
            throw err;
          }
          for (const key of toLoad) {
            results.set(key, { value: fallbacks.get(key)?.value as T | null, status: 'stale' });
            metrics.set(key, 'stale');
          }
          loaded = new Map();
        }
        const writes: PopulateWrite[] = [];
        for (const key of toLoad) {
          if (results.has(key)) continue;
          const value = loaded.get(key) ?? null;
          const bypassed = failed.has(key);
          results.set(key, { value, status: bypassed ? 'bypass' : 'miss' });
          if (!metrics.has(key)) metrics.set(key, 'miss');
          const lease = held.get(key);
          if (lease) writes.push({ key, value, lease });
        }
        this.#populateMany(writes, o, now);
      }
      for (const key of unique) this.#metrics.recordRequest(o.namespace, metrics.get(key) ?? 'miss');
      span?.setAttribute('cache.hits', [...results.values()].filter((r) => r.status === 'hit').length);
      // In the caller's key order.
      return new Map(unique.map((key) => [key, results.get(key) as CacheResult<T | null>]));
    };
    if (!this.#tracing.active) return batch(undefined);
    return this.#tracing.span(
      'cache.get',
      { 'cache.namespace': o.namespace, 'cache.keys': unique.length },
      batch,
    );
  }

  /**
   * The version recorded with the entry under `key` (by `writeThrough`, or by `versionOf` on
   * populate), or undefined when there is none: no item, a "not found", a lease, a corrupt entry,
   * or the cache did not answer. One get, no lease, no load, not counted as a request: an event
   * consumer uses it to skip reloading a row the cache already holds at the event's version.
   */
  async cachedVersion(key: string): Promise<number | undefined> {
    return (await this.peek(key))?.version;
  }

  /**
   * The entry under `key` as stored (value, version, storedAt), or undefined when there is
   * none, a lease, a corrupt entry, or the cache did not answer. One get: no lease, no load,
   * not counted as a request (the staleness auditor and event consumers read through it).
   */
  async peek(key: string): Promise<CacheEntry<unknown> | undefined> {
    let item: CacheItemLike | null;
    try {
      item = await this.#store.get(key);
    } catch (err) {
      this.#cacheFailure('get', key, err);
      return undefined;
    }
    if (item === null) return undefined;
    const decoded = this.#codec.decode(item.value);
    return decoded.kind === 'entry' ? decoded.entry : undefined;
  }

  /**
   * Deletes the keys. A delete also removes a lease placeholder, which makes the populate of
   * any load that started before it fail its CAS: a value read before the write cannot land
   * after it. Later reads in this process start a new load instead of joining a running one.
   * A failed delete is logged and counted, never thrown, unless `confirm` is
   * set: then it rejects when a delete did not reach its node, so an event consumer does not ack
   * a purge that never happened. A node known to be down (ejected, its keys routed elsewhere or
   * nowhere) does not reject: the gutter TTL cap and the flush on its return cover its keys.
   */
  async invalidate(keys: string | string[], opts: { confirm?: boolean } = {}): Promise<void> {
    const list = [...new Set(Array.isArray(keys) ? keys : [keys])];
    for (const key of list) this.#flights.forget(key);
    const remove = opts.confirm
      ? (key: string) => this.#deleteConfirmed(key)
      : (key: string) => this.#deleteQuietly(key);
    const results = await Promise.allSettled(list.map(remove));
    publishDiagnostic('invalidate', { keys: list });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Writes `value` unless the cache already holds a newer or equal version (CAS loop, so two
   * writers racing cannot leave the older version behind). Replacing a lease placeholder
   * revokes that loader's populate. Gives up after a few CAS conflicts by deleting the key,
   * which is always safe (the next read loads).
   */
  async writeThrough<T>(
    key: string,
    value: T,
    opts: { version: number; ttlSeconds?: number; namespace?: string; confirm?: boolean },
  ): Promise<void> {
    const o = this.#resolve({ namespace: opts.namespace, ttlSeconds: opts.ttlSeconds });
    this.#flights.forget(key);
    try {
      for (let attempt = 0; attempt < WRITE_THROUGH_ATTEMPTS; attempt += 1) {
        const now = this.#clock();
        const entry = this.#buildEntry(value, o, now, now, opts.version);
        const encoded = this.#codec.encodeEntry(entry);
        if (encoded.length > this.#maxValueBytes) {
          this.#metrics.recordPopulate('skipped_too_large');
          await this.#deleteQuietly(key);
          return;
        }
        const ttl = this.#memcachedTtl(entry, now);
        const item = await this.#store.get(key);
        if (!item) {
          if ((await this.#store.add(key, encoded, ttl)) !== null) return;
          continue;
        }
        const decoded = this.#codec.decode(item.value);
        if (
          decoded.kind === 'entry' &&
          decoded.entry.version !== undefined &&
          decoded.entry.version >= opts.version
        ) {
          return;
        }
        if (await this.#store.set(key, encoded, ttl, { cas: item.cas })) return;
      }
      this.#log.warn('write-through-conflict', { key }, 'writeThrough kept losing CAS races, key deleted');
      await (opts.confirm ? this.#deleteConfirmed(key) : this.#deleteQuietly(key));
    } catch (err) {
      if (err instanceof CacheWriteNotConfirmedError) throw err;
      this.#cacheFailure('writeThrough', key, err);
      // With `confirm`, the fallback delete must land (or the node be known down) or the caller hears of it.
      await (opts.confirm ? this.#deleteConfirmed(key) : this.#deleteQuietly(key));
    }
  }

  /**
   * Current version of a namespace (for list keys: `keySpace.key(id, await namespaceVersion('category:7'))`).
   * A missing counter is created at the current time in ms, not at 1: after an eviction or a
   * node loss the new counter is above every version handed out before (unless the namespace
   * was bumped more than once per millisecond on average), so old list entries are never read
   * again. When the counter cannot be read, a one-off negative version is returned: the list
   * is loaded from the database and what gets written under it is never read.
   */
  async namespaceVersion(name: string): Promise<number> {
    try {
      return Number(
        await this.#store.incr(this.#namespaceKey(name), 0, {
          initial: BigInt(this.#clock()),
          ttlSeconds: 0,
        }),
      );
    } catch (err) {
      this.#cacheFailure('incr', this.#namespaceKey(name), err);
      return -this.#clock() - Math.floor(this.#random() * 1000);
    }
  }

  /** Moves the namespace to a new version: every key built with the old one is abandoned. */
  async bumpNamespace(name: string, opts: { confirm?: boolean } = {}): Promise<void> {
    const key = this.#namespaceKey(name);
    try {
      await this.#store.incr(key, 1, { initial: BigInt(this.#clock()), ttlSeconds: 0 });
    } catch (err) {
      this.#cacheFailure('incr', key, err);
      // A failed bump would leave old lists readable; deleting the counter has the same effect
      // as a bump (recreated at the current time) once its node answers again.
      await (opts.confirm ? this.#deleteConfirmed(key) : this.#deleteQuietly(key));
    }
  }

  /** Counter for write-back aggregation (views, stock reservations); null when the cache is unavailable. */
  async incr(key: string, delta: number): Promise<bigint | null> {
    try {
      return await this.#store.incr(key, delta, {
        initial: BigInt(Math.max(0, Math.trunc(delta))),
        ttlSeconds: 0,
      });
    } catch (err) {
      this.#cacheFailure('incr', key, err);
      return null;
    }
  }

  /**
   * The missed-events rule: no copy outlives events it missed while the feed was down.
   * `namespaces` are the ones whose entries are purged by consumed events. While `feed` is
   * disconnected: entries of those namespaces stored before the disconnect are treated as expired
   * (reloaded, one loader per key; kept for stale-if-error), and entries written during the gap
   * live at most `gapTtlSeconds`, without SWR. On every reconnect the namespaces are bumped
   * (`bumpNamespace`), so versioned list keys written before or during the gap are abandoned;
   * plain entity keys are purged by the events the durable queue kept for us while we were away.
   */
  trackInvalidationFeed(feed: InvalidationFeedStatus, namespaces: string[]): void {
    this.#feed?.off();
    const off = feed.onConnectionChange((connected) => {
      if (!connected) return;
      this.#track(Promise.all(namespaces.map((n) => this.bumpNamespace(n))).then(() => undefined));
    });
    this.#feed = { status: feed, namespaces: new Set(namespaces), off };
  }

  /** Resolves when background writes and refreshes are done (tests, graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#background.size > 0 || this.#queue.depth > 0) {
      await Promise.all([...this.#background]);
      await this.#queue.idle();
    }
  }

  /** Alias of drain(). */
  idle(): Promise<void> {
    return this.drain();
  }

  /** Waits for background work and detaches from the feed. The cluster belongs to the caller, who closes it. */
  async close(): Promise<void> {
    this.#feed?.off();
    this.#feed = null;
    await this.drain();
  }

  /**
   * The state machine of one read: fresh -> hit; soft-expired -> stale + background refresh;
   * hard-expired -> reload under the refresh lease; absent or corrupt -> reload under a
   * placeholder lease; somebody else's lease -> poll until `leaseWaitMs`, then load without
   * writing (the bound on how long a request ever waits for another process).
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
      let decoded: DecodedItem | null = predecoded ?? (item ? this.#decode(key, item, o) : null);
      predecoded = null;
      if (item && decoded?.kind === 'corrupt') {
        await this.#deleteQuietly(key);
        item = null;
        decoded = null;
      }

      if (item && decoded?.kind === 'entry') {
        const entry = decoded.entry;
        if (entry.graceUntil > now) fallback = entry;
        const freshness = this.#freshness(entry, now, o);
        if (freshness === 'fresh') return { value: entry.value, status: 'hit', metric: 'hit' };
        if (freshness === 'stale') {
          this.#refreshInBackground(key, item.cas, loader, o);
          return { value: entry.value, status: 'stale', metric: 'stale' };
        }
        if (refreshHeldElsewhereFor !== item.cas) {
          const refresh = await this.#acquireRefreshLease(key, item.cas);
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
        const token = newLeaseToken();
        let cas: bigint | null;
        try {
          cas = await this.#store.add(key, this.#codec.encodeLease(token), this.#lease.leaseTtlSeconds);
        } catch (err) {
          state.failure = this.#cacheFailure('add', key, err);
          return this.#loadWithoutPopulate(key, loader, o, fallback, 'miss');
        }
        if (cas !== null)
          return this.#loadAndPopulate(key, loader, o, { cas, lease: { key, token } }, fallback);
      }

      // Another process holds the key's lease (or refresh lease): wait for its value.
      if (performance.now() >= deadline) return this.#loadWithoutPopulate(key, loader, o, fallback, 'miss');
      await sleep(pollDelayMs(this.#lease, this.#random));
      try {
        item = await this.#store.get(key);
      } catch (err) {
        state.failure = this.#cacheFailure('get', key, err);
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
      value = await this.#timedLoad(o.namespace, key, loader);
    } catch (err) {
      // Awaited (one round trip) so the next request can take the lease instead of polling.
      if (lease.lease) await this.#releaseLeaseNow(lease.lease);
      if (this.#servableOnError(fallback))
        return { value: fallback?.value, status: 'stale', metric: 'stale' };
      throw err;
    }
    this.#populate(key, value, o, lease, loadedAt);
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
        value: await this.#timedLoad(o.namespace, key, loader),
        status,
        metric: status === 'bypass' ? 'error' : 'miss',
      };
    } catch (err) {
      if (this.#servableOnError(fallback))
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
    this.#track(
      (async () => {
        try {
          const refresh = await this.#acquireRefreshLease(key, cas);
          if (refresh.state !== 'won') return;
          const loadedAt = this.#clock();
          let value: unknown;
          try {
            value = await this.#timedLoad(o.namespace, key, loader);
          } catch (err) {
            await this.#releaseLeaseNow(refresh.lease);
            throw err;
          }
          this.#populate(key, value, o, { cas }, loadedAt);
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

  async #acquireRefreshLease(
    key: string,
    cas: bigint,
  ): Promise<{ state: 'won'; lease: { key: string; token: string } } | { state: 'lost' | 'error' }> {
    const leaseKey = refreshLeaseKey(key, cas);
    const token = newLeaseToken();
    try {
      const leaseCas = await this.#store.add(
        leaseKey,
        this.#codec.encodeLease(token),
        this.#lease.leaseTtlSeconds,
      );
      return leaseCas === null ? { state: 'lost' } : { state: 'won', lease: { key: leaseKey, token } };
    } catch (err) {
      this.#cacheFailure('add', leaseKey, err);
      return { state: 'error' };
    }
  }

  /** Background CAS write of a loaded value: stored only if the item is still the one we leased. */
  #populate(key: string, value: unknown, o: ResolvedOptions, lease: Held, loadedAt: number): void {
    this.#queue.push(async (): Promise<PopulateResult> => {
      const now = this.#clock();
      const version = value === null || !o.versionOf ? undefined : o.versionOf(value);
      const entry = this.#buildEntry(value, o, now, loadedAt, version);
      let encoded: Buffer;
      try {
        encoded = this.#codec.encodeEntry(entry);
      } catch (err) {
        if (lease.lease) await this.#releaseLeaseNow(lease.lease);
        throw err;
      }
      let result: PopulateResult;
      if (encoded.length > this.#maxValueBytes) {
        if (lease.lease) await this.#releaseLeaseNow(lease.lease);
        result = 'skipped_too_large';
      } else {
        const stored = await this.#store.set(key, encoded, this.#memcachedTtl(entry, now), {
          cas: lease.cas,
        });
        result = stored ? 'stored' : 'lost_lease';
      }
      publishDiagnostic('populate', { key, result });
      return result;
    });
  }

  /**
   * The background writes of one getManyOrLoad batch as one queue job (counted as its number of
   * keys against `populate.maxQueue`) and one pipelined round per node: a job per key let a few
   * concurrent 50-key batches fill the queue faster than 8 single writes could drain it.
   */
  #populateMany(writes: PopulateWrite[], o: ResolvedOptions, loadedAt: number): void {
    if (writes.length === 0) return;
    if (writes.length === 1) {
      const [only] = writes as [PopulateWrite];
      this.#populate(only.key, only.value, o, only.lease, loadedAt);
      return;
    }
    this.#queue.push(async (): Promise<PopulateResult[]> => {
      const now = this.#clock();
      const results = new Array<PopulateResult>(writes.length);
      const entries: Array<{ key: string; value: Buffer; ttlSeconds: number; cas: bigint }> = [];
      const sentIndexes: number[] = [];
      for (let i = 0; i < writes.length; i += 1) {
        const { key, value, lease } = writes[i] as PopulateWrite;
        const version = value === null || !o.versionOf ? undefined : o.versionOf(value);
        const entry = this.#buildEntry(value, o, now, loadedAt, version);
        let encoded: Buffer | null = null;
        try {
          encoded = this.#codec.encodeEntry(entry);
        } catch (err) {
          this.#log.warn('populate-encode', { key, ...errorFields(err) }, 'cache value could not be encoded');
        }
        if (encoded === null || encoded.length > this.#maxValueBytes) {
          if (lease.lease) await this.#releaseLeaseNow(lease.lease);
          results[i] = encoded === null ? 'error' : 'skipped_too_large';
          continue;
        }
        entries.push({ key, value: encoded, ttlSeconds: this.#memcachedTtl(entry, now), cas: lease.cas });
        sentIndexes.push(i);
      }
      const outcomes = await this.#setMany(entries);
      outcomes.forEach((outcome, j) => {
        results[sentIndexes[j] as number] =
          outcome === 'stored' ? 'stored' : outcome === 'not_stored' ? 'lost_lease' : 'error';
      });
      if (hasDiagnosticSubscribers('populate')) {
        writes.forEach(({ key }, i) => publishDiagnostic('populate', { key, result: results[i] }));
      }
      return results;
    }, writes.length);
  }

  /** The store's pipelined setMany, or one CAS set per entry for stores without it. */
  async #setMany(
    entries: Array<{ key: string; value: Buffer; ttlSeconds: number; cas: bigint }>,
  ): Promise<Array<'stored' | 'not_stored' | 'failed'>> {
    if (entries.length === 0) return [];
    if (this.#store.setMany) {
      try {
        return await this.#store.setMany(entries);
      } catch (err) {
        this.#cacheFailure('setMany', (entries[0] as { key: string }).key, err);
        return entries.map(() => 'failed');
      }
    }
    return Promise.all(
      entries.map(({ key, value, ttlSeconds, cas }) =>
        this.#store.set(key, value, ttlSeconds, { cas }).then(
          (stored): 'stored' | 'not_stored' => (stored ? 'stored' : 'not_stored'),
          (err: unknown): 'failed' => {
            this.#cacheFailure('set', key, err);
            return 'failed';
          },
        ),
      ),
    );
  }

  /** After a failed load, so waiters don't poll a placeholder nobody will fill. */
  #releaseLease(lease: { key: string; token: string }): void {
    this.#track(this.#releaseLeaseNow(lease));
  }

  async #releaseLeaseNow({ key, token }: { key: string; token: string }): Promise<void> {
    try {
      const item = await this.#store.get(key);
      if (!item) return;
      const decoded = this.#codec.decode(item.value);
      // Only our own placeholder: the window between get and delete can at worst delete someone
      // else's newer lease, which makes their populate fail (a lost write, never a stale one).
      if (decoded.kind === 'lease' && decoded.token === token) await this.#store.delete(key);
    } catch (err) {
      this.#cacheFailure('delete', key, err);
    }
  }

  #timedLoad<R>(namespace: string, key: string | undefined, loader: () => Promise<R>): Promise<R> {
    if (!this.#tracing.active) return this.#load(namespace, key, loader);
    return this.#tracing.span(
      'cache.load',
      { 'cache.namespace': namespace, ...(key ? { 'cache.key': key } : {}) },
      () => this.#load(namespace, key, loader),
    );
  }

  async #load<R>(namespace: string, key: string | undefined, loader: () => Promise<R>): Promise<R> {
    const started = performance.now();
    let ok = false;
    try {
      const value = await loader();
      ok = true;
      return (value === undefined ? null : value) as R;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.#metrics.recordLoaderCall(namespace, seconds);
      publishDiagnostic('load', { key, namespace, durationMs: seconds * 1000, ok });
    }
  }

  #decode(key: string, item: CacheItemLike, o: ResolvedOptions): DecodedItem {
    const decoded = this.#codec.decode(item.value);
    if (
      decoded.kind === 'entry' &&
      decoded.entry.value !== null &&
      o.validate &&
      !safeValidate(o.validate, decoded.entry.value)
    ) {
      this.#log.warn('corrupt-entry', { key }, 'cached entry failed validation, treated as a miss');
      publishDiagnostic('error', { op: 'validate', key, error: new Error('entry failed validation') });
      return { kind: 'corrupt', reason: 'failed validation' };
    }
    if (decoded.kind === 'corrupt') {
      this.#log.warn('corrupt-entry', { key }, 'cached entry could not be decoded, treated as a miss');
      publishDiagnostic('error', { op: 'decode', key, error: new Error('entry could not be decoded') });
    }
    return decoded;
  }

  #freshness(entry: CacheEntry<unknown>, now: number, o: ResolvedOptions): 'fresh' | 'stale' | 'expired' {
    if (this.#distrusted(entry, o.namespace)) return 'expired';
    if (now < entry.freshUntil) return 'fresh';
    // No SWR while the event feed is down: a stale value could be one whose purge we missed.
    if (this.#gapOpen(o.namespace)) return 'expired';
    const swrUntil = Math.min(entry.graceUntil, entry.freshUntil + o.staleSeconds * 1000);
    return now < swrUntil ? 'stale' : 'expired';
  }

  #gapOpen(namespace: string): boolean {
    const feed = this.#feed;
    return feed !== null && feed.namespaces.has(namespace) && !feed.status.connected;
  }

  /**
   * An entry of an event-fed namespace is not trusted when it was stored before the feed went
   * away (while it is away), or before the moment the feed's queue was found missing (its
   * purge may have been published into nothing): it is reloaded, one loader per key.
   */
  #distrusted(entry: CacheEntry<unknown>, namespace: string): boolean {
    const feed = this.#feed;
    if (feed === null || !feed.namespaces.has(namespace)) return false;
    const lostBefore = feed.status.eventsLostBefore;
    if (lostBefore != null && entry.storedAt < lostBefore) return true;
    if (feed.status.connected) return false;
    const since = feed.status.disconnectedSince;
    return since != null && entry.storedAt < since;
  }

  #servableOnError(entry: CacheEntry<unknown> | undefined): boolean {
    return entry !== undefined && entry.value !== null && this.#clock() < entry.graceUntil;
  }

  #buildEntry(
    value: unknown,
    o: ResolvedOptions,
    now: number,
    loadedAt: number,
    version?: number,
  ): CacheEntry<unknown> {
    const base = { storedAt: loadedAt, ...(version === undefined ? {} : { version }) };
    if (value === null || value === undefined) {
      const until = now + o.negativeTtlSeconds * 1000;
      return { ...base, value: null, freshUntil: until, graceUntil: until };
    }
    let ttlSeconds = o.ttlSeconds * (1 + (this.#random() * 2 - 1) * o.jitterRatio);
    if (this.#gapOpen(o.namespace)) ttlSeconds = Math.min(ttlSeconds, this.#gapTtlSeconds);
    const freshUntil = now + Math.round(ttlSeconds * 1000);
    return {
      ...base,
      value,
      freshUntil,
      graceUntil: freshUntil + Math.max(o.staleSeconds, o.graceSeconds) * 1000,
    };
  }

  /** The hard expiry given to memcached: the end of the grace window (the entry must outlive it). */
  #memcachedTtl(entry: CacheEntry<unknown>, now: number): number {
    return Math.min(MAX_RELATIVE_TTL_SECONDS, Math.max(1, Math.ceil((entry.graceUntil - now) / 1000)));
  }

  #resolve<T>(opts: GetOrLoadOptions<T>): ResolvedOptions {
    const d = this.#defaults;
    return {
      namespace: opts.namespace ?? d.namespace,
      ttlSeconds: opts.ttlSeconds ?? d.ttlSeconds,
      staleSeconds: opts.staleSeconds ?? d.staleSeconds,
      graceSeconds: opts.graceSeconds ?? d.graceSeconds,
      negativeTtlSeconds: opts.negativeTtlSeconds ?? d.negativeTtlSeconds,
      jitterRatio: d.jitterRatio,
      validate: opts.validate as ((v: unknown) => boolean) | undefined,
      versionOf: opts.versionOf as ((v: unknown) => number | undefined) | undefined,
    };
  }

  #namespaceKey(name: string): string {
    return toMemcachedKey(`${this.#namespaceKeyPrefix}${name}`);
  }

  async #deleteQuietly(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      this.#cacheFailure('delete', key, err);
    }
  }

  /** A delete that must land: rethrows unless the key's node is known down (CacheUnavailableError). */
  async #deleteConfirmed(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      this.#cacheFailure('delete', key, err);
      if (err instanceof CacheUnavailableError) return;
      throw new CacheWriteNotConfirmedError(`delete of ${key} did not reach memcached`, { cause: err });
    }
  }

  /** Counts and logs (rate-limited) a swallowed cache failure; the request result it implies. */
  #cacheFailure(op: string, key: string, err: unknown): CacheRequestResult {
    const name = err instanceof Error ? err.name : 'NonError';
    this.#log.warn(
      `cache-${op}-${name}`,
      { op, key, ...errorFields(err) },
      'cache operation failed, continuing without cache',
    );
    publishDiagnostic('error', { op, key, error: err });
    // An unavailable cluster refused without trying (every node ejected): a bypass, not an error.
    return err instanceof CacheUnavailableError ? 'bypass' : 'error';
  }

  #track(promise: Promise<void>): void {
    const tracked = promise.catch((err) =>
      this.#log.warn('background', errorFields(err), 'background cache task failed'),
    );
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }
}

function safeValidate(validate: (v: unknown) => boolean, value: unknown): boolean {
  try {
    return validate(value);
  } catch {
    return false;
  }
}
