import type { Tracer } from '@opentelemetry/api';
import type { EntryCodec } from './entry.js';
import type { LeaseOptions } from './lease.js';
import type { LoggerLike } from './logger.js';
import type { CacheMetrics } from './metrics.js';
import type { PopulateQueueOptions } from './populate-queue.js';

export type CacheStatus = 'hit' | 'miss' | 'stale' | 'bypass';

export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
}

/** What getOrLoadJson returns: the value's JSON bytes (null: not found) and how it was read. */
export interface CacheJsonResult {
  json: Buffer | null;
  status: CacheStatus;
}

export interface GetOrLoadOptions<T> {
  /**
   * The kind of entity read, e.g. 'product': the label of its metrics and the unit of the
   * missed-events rule (`trackInvalidationFeed`). Default 'default'.
   */
  entity?: string;
  /** Fresh lifetime (soft expiry), jittered by +-`jitterRatio`. Default 300. */
  ttlSeconds?: number;
  /** After soft expiry, served stale while one refresher reloads (SWR). Default 60. */
  staleSeconds?: number;
  /** Stale-if-error: after soft expiry, served when the loader throws. Default 600. */
  graceSeconds?: number;
  /** A loader result of null is cached this long. Default 30. */
  negativeTtlSeconds?: number;
  /** Shape check on read; a failure means corrupt, which is a miss (and the entry is replaced). Default: none. */
  validate?: (v: unknown) => v is T;
  /**
   * The entity's own version (a row version column). Recorded on populate so that a delayed
   * `writeThrough` of an older version cannot replace a value loaded after it. Default: none.
   */
  versionOf?: (v: T) => number | undefined;
  /**
   * The caller's own deadline: an AbortSignal (e.g. `AbortSignal.timeout(ms)`), or an epoch-ms
   * time on `Date.now()`'s clock (what is left of a request's budget; it costs no timer per call,
   * which matters on a cache hit). A call that waits for a value another process holds the lease
   * for waits while that lease is alive, up to `lease.leaseWaitMs` (default: the lease TTL + 1 s,
   * 6 s) or until the deadline, whichever comes first; then it calls the loader itself, without
   * writing the cache. It bounds only that wait, never a load already running. Concurrent calls
   * for one key in one process share one read, and so the deadline of the call that started it.
   * Default: none.
   */
  deadline?: AbortSignal | number;
}

export interface PeekOptions {
  /** Reject with the transport's error when the cache did not answer, instead of undefined. */
  strict?: boolean;
}

export type CacheDefaults = Required<
  Omit<GetOrLoadOptions<unknown>, 'validate' | 'versionOf' | 'deadline'>
> & {
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
  /**
   * Optional: epoch ms of the latest change of `key`'s owner whose older entries may still be
   * served (CacheCluster has it: ring membership changes). Entries of `key` stored before it are
   * treated as expired: reloaded under the key's lease, still served if that load fails.
   * undefined: every entry is trusted.
   */
  ownerChangedAt?(key: string): number | undefined;
}

export interface CacheOptions {
  /** Where entries live; a CacheCluster in production. Required. */
  cluster: CacheStore;
  /** Default: silent. */
  logger?: LoggerLike;
  /** Default: none recorded (`noopCacheMetrics`). */
  metrics?: CacheMetrics;
  /** OpenTelemetry tracer for `cache.get` / `cache.load` spans. Default: none (no spans). */
  tracer?: Tracer;
  /** Name of the global provider's tracer used when `tracer` is not given. Default 'cache'. */
  tracerName?: string;
  /**
   * node:diagnostics_channel names are `<prefix>:get`, `<prefix>:load`, … (`cacheChannelNames`
   * in the advanced entry point lists them). Default 'cache'.
   */
  diagnosticsChannelPrefix?: string;
  /** Epoch ms; injected by tests. Default `Date.now`. */
  clock?: () => number;
  /** [0, 1) for jitter and poll delays; injected by tests. Default `Math.random`. */
  random?: () => number;
  /** Per-call option defaults (see GetOrLoadOptions and CacheDefaults). */
  defaults?: Partial<CacheDefaults>;
  /** Background populate queue (see PopulateQueueOptions for its defaults). */
  populate?: PopulateQueueOptions;
  /** Lease timings (see LeaseOptions for their defaults). */
  lease?: LeaseOptions;
  /** Encoded entries above this are not written (counted `skipped_too_large`). Default 1000000 (memcached -I 1m less headers). */
  maxValueBytes?: number;
  /** Prefix of the key-generation counters (`keyGeneration`). Default 'cache:gen:'. */
  keyGenerationPrefix?: string;
  /** Fresh TTL cap for entries of event-fed entities written while the event consumer is disconnected. Default 5. */
  gapTtlSeconds?: number;
  /** How entries and lease placeholders are serialised. Default: the codec.ts envelope. */
  codec?: EntryCodec;
}

/** Per-call options with the defaults filled in. */
export interface ResolvedOptions {
  entity: string;
  ttlSeconds: number;
  staleSeconds: number;
  graceSeconds: number;
  negativeTtlSeconds: number;
  jitterRatio: number;
  validate: ((v: unknown) => boolean) | undefined;
  versionOf: ((v: unknown) => number | undefined) | undefined;
  deadline: AbortSignal | number | undefined;
  /** A getOrLoadJson read: cached values come back as StoredJson, checked but not parsed. */
  json: boolean;
}
