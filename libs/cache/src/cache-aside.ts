import type { Span } from '@opentelemetry/api';
import { BackgroundTasks } from './background-tasks.js';
import { CacheFailures } from './cache-failures.js';
import { CacheLeases } from './cache-leases.js';
import type {
  CacheDefaults,
  CacheJsonResult,
  CacheOptions,
  CacheResult,
  CacheStore,
  GetOrLoadOptions,
  PeekOptions,
  ResolvedOptions,
} from './cache-options.js';
import { CacheReader, type Flight } from './cache-reader.js';
import { CacheWriter } from './cache-writer.js';
import { EntryPolicy } from './entry-policy.js';
import { defaultEntryCodec, StoredJson, type CacheEntry, type EntryCodec } from './entry.js';
import type { InvalidationFeedStatus } from './invalidation-feed-status.js';
import { KeyGenerations } from './key-generations.js';
import { resolveLeaseOptions } from './lease.js';
import { silentLogger, RateLimitedLogger } from './logger.js';
import { noopCacheMetrics, type CacheMetrics } from './metrics.js';
import { PopulateQueue } from './populate-queue.js';
import { ReadMachine } from './read-machine.js';
import { SingleFlight } from './single-flight.js';
import { TimedLoader } from './timed-loader.js';
import { CacheTracing } from './tracing.js';

/**
 * Cache-aside over a memcached cluster with the holes of the plain pattern closed:
 * leases against stale sets and cross-process stampedes, in-process single-flight, soft expiry
 * with stale-while-revalidate, stale-if-error, negative caching, corrupt entries as misses,
 * background population through a bounded queue. A cache failure never reaches the caller.
 *
 * This class is the facade: reads are CacheReader's (driving ReadMachine, the per-key states), writes CacheWriter's, trust rules
 * EntryPolicy's, leases CacheLeases', generation counters KeyGenerations'.
 */
export class Cache {
  readonly #store: CacheStore;
  readonly #codec: EntryCodec;
  readonly #defaults: CacheDefaults;
  readonly #queue: PopulateQueue;
  readonly #flights = new SingleFlight<Flight>();
  /** Raw reads share flights among themselves only: their results are bytes, not values. */
  readonly #jsonFlights = new SingleFlight<Flight>();
  readonly #background: BackgroundTasks;
  readonly #failures: CacheFailures;
  readonly #metrics: CacheMetrics;
  readonly #tracing: CacheTracing;
  readonly #policy: EntryPolicy;
  readonly #reader: CacheReader;
  readonly #writer: CacheWriter;
  readonly #generations: KeyGenerations;

  constructor(opts: CacheOptions) {
    const store = opts.cluster;
    const codec = opts.codec ?? defaultEntryCodec;
    const clock = opts.clock ?? Date.now;
    const random = opts.random ?? Math.random;
    const log = new RateLimitedLogger(opts.logger ?? silentLogger, { clock });
    const metrics = opts.metrics ?? noopCacheMetrics;
    const lease = resolveLeaseOptions(opts.lease);
    this.#store = store;
    this.#codec = codec;
    this.#defaults = {
      entity: 'default',
      ttlSeconds: 300,
      staleSeconds: 60,
      graceSeconds: 600,
      negativeTtlSeconds: 30,
      jitterRatio: 0.1,
      ...opts.defaults,
    };
    this.#metrics = metrics;
    this.#tracing = new CacheTracing({
      tracer: opts.tracer,
      tracerName: opts.tracerName,
      channelPrefix: opts.diagnosticsChannelPrefix,
    });
    this.#queue = new PopulateQueue({ ...opts.populate, metrics, logger: log });
    this.#background = new BackgroundTasks(log);
    const failures = new CacheFailures(log, this.#tracing);
    this.#failures = failures;
    this.#policy = new EntryPolicy({
      codec,
      log,
      tracing: this.#tracing,
      clock,
      random,
      gapTtlSeconds: opts.gapTtlSeconds ?? 5,
      store,
    });
    const leases = new CacheLeases({ store, codec, lease, failures, background: this.#background });
    this.#writer = new CacheWriter({
      store,
      codec,
      policy: this.#policy,
      leases,
      queue: this.#queue,
      failures,
      log,
      tracing: this.#tracing,
      metrics,
      clock,
      maxValueBytes: opts.maxValueBytes ?? 1_000_000,
    });
    const loads = new TimedLoader(metrics, this.#tracing);
    const machine = new ReadMachine({
      store,
      policy: this.#policy,
      leases,
      writer: this.#writer,
      failures,
      background: this.#background,
      log,
      loads,
      lease,
      clock,
      random,
    });
    this.#reader = new CacheReader({
      store,
      policy: this.#policy,
      machine,
      writer: this.#writer,
      leases,
      failures,
      metrics,
      loads,
      clock,
    });
    this.#generations = new KeyGenerations({
      store,
      writer: this.#writer,
      failures,
      prefix: opts.keyGenerationPrefix ?? 'cache:gen:',
      clock,
      random,
    });
  }

  /**
   * The value of `key`: from the cache when fresh, else from `loader` (returned at once, the
   * cache is written in the background). Concurrent calls for one key in this process share
   * one cache read and at most one loader call; across processes one loader runs per key
   * (leases): the others wait while the loader's lease is alive, bounded by `lease.leaseWaitMs`
   * (default: the lease TTL + 1 s) and by `opts.deadline`. Loader errors reach the caller unless a value
   * within `graceSeconds` can be served (`status: 'stale'`).
   */
  getOrLoad<T>(
    key: string,
    loader: () => Promise<T | null>,
    opts: GetOrLoadOptions<T> = {},
  ): Promise<CacheResult<T | null>> {
    const o = this.#resolve(opts);
    if (!this.#tracing.active) return this.#getOrLoadShared(key, loader, o, undefined);
    return this.#tracing.span('cache.get', { 'cache.key': key, 'cache.namespace': o.entity }, (span) =>
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
    const flight = await this.#flights.run(key, () => this.#reader.flight(key, loader, o));
    return this.#finish(key, o, flight, span) as CacheResult<T | null>;
  }

  /** One caller's metric, span attributes and event for its share of a flight; throws its error. */
  #finish(key: string, o: ResolvedOptions, flight: Flight, span: Span | undefined): CacheResult<unknown> {
    this.#metrics.recordRequest(o.entity, flight.metric);
    if (!flight.ok) throw flight.error;
    const status = flight.status;
    if (span) {
      span.setAttribute('cache.hit', status === 'hit');
      span.setAttribute('cache.status', status);
    }
    if (this.#tracing.hasSubscribers('get'))
      this.#tracing.publish('get', { key, namespace: o.entity, status });
    return { value: flight.value, status };
  }

  /**
   * getOrLoad for a caller that sends the value on as JSON (an HTTP response): the value's JSON
   * bytes, the ones its writer stored, without parsing them and stringifying them again. A hit
   * is the stored bytes after the entry's length and CRC check; `validate` runs on the first
   * read of each stored item in this process (by CAS), not on every hit. A loaded value is
   * stringified once. `json` is null for "not found". Same read machine, leases, single-flight,
   * metrics and spans as getOrLoad, so it behaves the same in every other way.
   */
  getOrLoadJson<T>(
    key: string,
    loader: () => Promise<T | null>,
    opts: GetOrLoadOptions<T> = {},
  ): Promise<CacheJsonResult> {
    const o = { ...this.#resolve(opts), json: true };
    if (!this.#tracing.active) return this.#getOrLoadJsonShared(key, loader, o, undefined);
    return this.#tracing.span('cache.get', { 'cache.key': key, 'cache.namespace': o.entity }, (span) =>
      this.#getOrLoadJsonShared(key, loader, o, span),
    );
  }

  async #getOrLoadJsonShared<T>(
    key: string,
    loader: () => Promise<T | null>,
    o: ResolvedOptions,
    span: Span | undefined,
  ): Promise<CacheJsonResult> {
    const flight = await this.#jsonFlights.run(key, async () => {
      const read = await this.#reader.flight(key, loader, o);
      return read.ok ? { ...read, value: jsonBytesOf(read.value) } : read;
    });
    const { value, status } = this.#finish(key, o, flight, span);
    return { json: value as Buffer | null, status };
  }

  /**
   * Batch form: one cluster getMany round and one loader call for every key that needs a load.
   * Keys another process holds the lease for are waited for like single keys (bounded the same
   * way, by the lease and `opts.deadline`), so a batch never adds a second database load of a
   * key under load. Returns a map with one result per distinct key, in the order of `keys`.
   */
  async getManyOrLoad<T>(
    keys: string[],
    loader: (missing: string[]) => Promise<Map<string, T | null>>,
    opts: GetOrLoadOptions<T> = {},
  ): Promise<Map<string, CacheResult<T | null>>> {
    const o = this.#resolve(opts);
    const unique = [...new Set(keys)];
    if (unique.length === 0) return new Map();
    type Results = Map<string, CacheResult<T | null>>;
    if (!this.#tracing.active) return (await this.#reader.batch(unique, loader, o, undefined)) as Results;
    return this.#tracing.span(
      'cache.get',
      { 'cache.namespace': o.entity, 'cache.keys': unique.length },
      async (span) => (await this.#reader.batch(unique, loader, o, span)) as Results,
    );
  }

  /**
   * The version recorded with the entry under `key` (by `writeThrough`, or by `versionOf` on
   * populate), or undefined when there is none: no item, a "not found", a lease, a corrupt entry,
   * or the cache did not answer. One get, no lease, no load, not counted as a request: an event
   * consumer uses it to skip reloading a row the cache already holds at the event's version.
   * With `strict`, a cache that did not answer rejects instead: for a reader to whom "no
   * entry" and "unknown" must lead to different actions.
   */
  async cachedVersion(key: string, opts: PeekOptions = {}): Promise<number | undefined> {
    return (await this.peek(key, opts))?.version;
  }

  /**
   * The entry under `key` as stored (value, version, storedAt), or undefined when there is
   * none, a lease, a corrupt entry, or the cache did not answer (with `strict`, that rejects
   * with the transport's error instead). One get: no lease, no load, not counted as a request
   * (the staleness auditor and event consumers read through it).
   */
  async peek(key: string, opts: PeekOptions = {}): Promise<CacheEntry<unknown> | undefined> {
    let item;
    try {
      item = await this.#store.get(key);
    } catch (err) {
      this.#failures.report('get', key, err);
      if (opts.strict) throw err;
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
    for (const key of list) this.#forgetFlights(key);
    const remove = opts.confirm
      ? (key: string) => this.#writer.deleteConfirmed(key)
      : (key: string) => this.#writer.deleteQuietly(key);
    const results = await Promise.allSettled(list.map(remove));
    this.#tracing.publish('invalidate', { keys: list });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Writes `value` unless the cache already holds a newer or equal version (CAS loop, so two
   * writers racing cannot leave the older version behind). Replacing a lease placeholder
   * revokes that loader's populate. Gives up after a few CAS conflicts by deleting the key,
   * which is always safe (the next read loads). With `replaceOnly` it only replaces an older
   * entry: an absent key stays absent and a lease is deleted, so a writer that stalled past a
   * newer write and an eviction cannot bring its older version back. Resolves once written,
   * skipped or deleted; rejects (CacheWriteNotConfirmedError) only with `confirm` when that delete did not land.
   */
  async writeThrough<T>(
    key: string,
    value: T,
    opts: { version: number; ttlSeconds?: number; entity?: string; confirm?: boolean; replaceOnly?: boolean },
  ): Promise<void> {
    const o = this.#resolve({
      ...(opts.entity === undefined ? {} : { entity: opts.entity }),
      ...(opts.ttlSeconds === undefined ? {} : { ttlSeconds: opts.ttlSeconds }),
    });
    this.#forgetFlights(key);
    await this.#writer.writeThrough(
      key,
      value,
      o,
      opts.version,
      opts.confirm === true,
      opts.replaceOnly === true,
    );
  }

  /** Current generation of `name` (for list keys: `keySpace.key(id, await keyGeneration('category:7'))`). */
  keyGeneration(name: string): Promise<number> {
    return this.#generations.current(name);
  }

  /** Moves `name` to a new generation: every key built with the old one is abandoned. */
  bumpKeyGeneration(name: string, opts: { confirm?: boolean } = {}): Promise<void> {
    return this.#generations.bump(name, opts.confirm === true);
  }

  /** Counter for write-back aggregation (views, stock reservations); null when the cache is unavailable. */
  async incr(key: string, delta: number): Promise<bigint | null> {
    try {
      return await this.#store.incr(key, delta, {
        initial: BigInt(Math.max(0, Math.trunc(delta))),
        ttlSeconds: 0,
      });
    } catch (err) {
      this.#failures.report('incr', key, err);
      return null;
    }
  }

  /**
   * The missed-events rule: no copy outlives events it missed while the feed was down.
   * `entities` are the ones whose entries are purged by consumed events. While `feed` is
   * disconnected: entries of those entities stored before the disconnect are treated as expired
   * (reloaded, one loader per key; kept for stale-if-error), and entries written during the gap
   * live at most `gapTtlSeconds`, without SWR. On every reconnect the key generations named
   * like the entities are bumped, so list keys written before or during the gap are abandoned;
   * plain entity keys are purged by the events the durable queue kept for us while we were away.
   */
  trackInvalidationFeed(feed: InvalidationFeedStatus, entities: string[]): void {
    this.#policy.watchFeed(feed, entities, () => {
      this.#background.track(
        Promise.all(entities.map((name) => this.#generations.bump(name, false))).then(() => undefined),
      );
    });
  }

  /** Resolves when background writes and refreshes are done (tests, graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#background.size > 0 || this.#queue.depth > 0) {
      await this.#background.settled();
      await this.#queue.idle();
    }
  }

  /** Alias of drain(). */
  idle(): Promise<void> {
    return this.drain();
  }

  /** Waits for background work and detaches from the feed. The cluster belongs to the caller, who closes it. */
  async close(): Promise<void> {
    this.#policy.unwatchFeed();
    await this.drain();
  }

  #forgetFlights(key: string): void {
    this.#flights.forget(key);
    this.#jsonFlights.forget(key);
  }

  #resolve<T>(opts: GetOrLoadOptions<T>): ResolvedOptions {
    const d = this.#defaults;
    return {
      entity: opts.entity ?? d.entity,
      ttlSeconds: opts.ttlSeconds ?? d.ttlSeconds,
      staleSeconds: opts.staleSeconds ?? d.staleSeconds,
      graceSeconds: opts.graceSeconds ?? d.graceSeconds,
      negativeTtlSeconds: opts.negativeTtlSeconds ?? d.negativeTtlSeconds,
      jitterRatio: d.jitterRatio,
      validate: opts.validate as ((v: unknown) => boolean) | undefined,
      versionOf: opts.versionOf as ((v: unknown) => number | undefined) | undefined,
      deadline: opts.deadline,
      json: false,
    };
  }
}

/** A raw read's value as JSON bytes: stored ones as they are, a loaded one stringified once. */
function jsonBytesOf(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (value instanceof StoredJson) return value.bytes;
  return Buffer.from(JSON.stringify(value), 'utf8');
}
