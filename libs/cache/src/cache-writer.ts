import type { CacheFailures } from './cache-failures.js';
import type { Held, CacheLeases } from './cache-leases.js';
import type { CacheStore, ResolvedOptions } from './cache-options.js';
import type { EntryPolicy } from './entry-policy.js';
import type { EntryCodec } from './entry.js';
import { CacheUnavailableError, CacheWriteNotConfirmedError } from './errors.js';
import { errorFields, type RateLimitedLogger } from './logger.js';
import type { CacheMetrics, PopulateResult } from './metrics.js';
import type { PopulateQueue } from './populate-queue.js';
import type { CacheTracing } from './tracing.js';

const WRITE_THROUGH_ATTEMPTS = 5;

/** A loaded value to write under the lease this process holds on its key. */
export interface PopulateWrite {
  key: string;
  value: unknown;
  lease: Held;
}

type SetOutcome = 'stored' | 'not_stored' | 'failed';
type EncodedWrite = { key: string; value: Buffer; ttlSeconds: number; cas?: bigint };

/** Every write to the cache: populates after a load (under a lease), write-through, deletes. */
export class CacheWriter {
  readonly #store: CacheStore;
  readonly #codec: EntryCodec;
  readonly #policy: EntryPolicy;
  readonly #leases: CacheLeases;
  readonly #queue: PopulateQueue;
  readonly #failures: CacheFailures;
  readonly #log: RateLimitedLogger;
  readonly #tracing: CacheTracing;
  readonly #metrics: CacheMetrics;
  readonly #clock: () => number;
  readonly #maxValueBytes: number;

  constructor(opts: {
    store: CacheStore;
    codec: EntryCodec;
    policy: EntryPolicy;
    leases: CacheLeases;
    queue: PopulateQueue;
    failures: CacheFailures;
    log: RateLimitedLogger;
    tracing: CacheTracing;
    metrics: CacheMetrics;
    clock: () => number;
    maxValueBytes: number;
  }) {
    this.#store = opts.store;
    this.#codec = opts.codec;
    this.#policy = opts.policy;
    this.#leases = opts.leases;
    this.#queue = opts.queue;
    this.#failures = opts.failures;
    this.#log = opts.log;
    this.#tracing = opts.tracing;
    this.#metrics = opts.metrics;
    this.#clock = opts.clock;
    this.#maxValueBytes = opts.maxValueBytes;
  }

  /** See Cache.writeThrough. */
  async writeThrough(
    key: string,
    value: unknown,
    o: ResolvedOptions,
    version: number,
    confirm: boolean,
    replaceOnly = false,
  ): Promise<void> {
    try {
      for (let attempt = 0; attempt < WRITE_THROUGH_ATTEMPTS; attempt += 1) {
        const now = this.#clock();
        const entry = this.#policy.buildEntry(value, o, now, now, version);
        const encoded = this.#codec.encodeEntry(entry);
        if (encoded.length > this.#maxValueBytes) {
          this.#metrics.recordPopulate('skipped_too_large');
          await this.deleteQuietly(key);
          return;
        }
        const ttl = this.#policy.memcachedTtl(entry, now);
        const item = await this.#store.get(key);
        // replaceOnly: an absent key may have held a newer version until an eviction, and a
        // lease's loader may have read a newer row; a late write must bring neither back.
        if (!item && replaceOnly) return;
        if (!item) {
          if ((await this.#store.add(key, encoded, ttl)) !== null) return;
          continue;
        }
        const decoded = this.#codec.decode(item.value);
        // A corrupt item may be another format version's entry (old and new code share the
        // cluster during a rolling deploy): its version cannot be read, so it may be newer than
        // ours and is never overwritten. It is deleted, and the key is then what an absent key
        // is: filled by `add` unless `replaceOnly`.
        if (decoded.kind === 'corrupt') {
          await (confirm ? this.deleteConfirmed(key) : this.deleteQuietly(key));
          if (replaceOnly) return;
          continue;
        }
        if (replaceOnly && decoded.kind === 'lease') {
          await (confirm ? this.deleteConfirmed(key) : this.deleteQuietly(key));
          return;
        }
        if (
          decoded.kind === 'entry' &&
          decoded.entry.version !== undefined &&
          decoded.entry.version >= version
        ) {
          return;
        }
        if (await this.#store.set(key, encoded, ttl, { cas: item.cas })) return;
      }
      this.#log.warn('write-through-conflict', { key }, 'writeThrough kept losing CAS races, key deleted');
      await (confirm ? this.deleteConfirmed(key) : this.deleteQuietly(key));
    } catch (err) {
      if (err instanceof CacheWriteNotConfirmedError) throw err;
      this.#failures.report('writeThrough', key, err);
      // With `confirm`, the fallback delete must land (or the node be known down) or the caller hears of it.
      await (confirm ? this.deleteConfirmed(key) : this.deleteQuietly(key));
    }
  }

  /** Background CAS write of a loaded value: stored only if the item is still the one we leased. */
  populate(key: string, value: unknown, o: ResolvedOptions, lease: Held, loadedAt: number): void {
    this.#queue.push(async (): Promise<PopulateResult> => {
      const now = this.#clock();
      const version = value === null || !o.versionOf ? undefined : o.versionOf(value);
      const entry = this.#policy.buildEntry(value, o, now, loadedAt, version);
      let encoded: Buffer;
      try {
        encoded = this.#codec.encodeEntry(entry);
      } catch (err) {
        if (lease.lease) await this.#leases.releaseNow(lease.lease);
        throw err;
      }
      let result: PopulateResult;
      if (encoded.length > this.#maxValueBytes) {
        if (lease.lease) await this.#leases.releaseNow(lease.lease);
        result = 'skipped_too_large';
      } else {
        const stored = await this.#store.set(
          key,
          encoded,
          this.#policy.memcachedTtl(entry, now),
          lease.cas === undefined ? {} : { cas: lease.cas },
        );
        result = stored ? 'stored' : 'lost_lease';
      }
      this.#tracing.publish('populate', { key, result });
      return result;
    });
  }

  /**
   * The background writes of one getManyOrLoad batch as one queue job (counted as its number of
   * keys against `populate.maxQueue`) and one pipelined round per node: a job per key let a few
   * concurrent 50-key batches fill the queue faster than 8 single writes could drain it.
   */
  populateMany(writes: PopulateWrite[], o: ResolvedOptions, loadedAt: number): void {
    if (writes.length === 0) return;
    if (writes.length === 1) {
      const [only] = writes as [PopulateWrite];
      this.populate(only.key, only.value, o, only.lease, loadedAt);
      return;
    }
    this.#queue.push(async (): Promise<PopulateResult[]> => {
      const now = this.#clock();
      const results = new Array<PopulateResult>(writes.length);
      const entries: EncodedWrite[] = [];
      const sentIndexes: number[] = [];
      for (let i = 0; i < writes.length; i += 1) {
        const { key, value, lease } = writes[i] as PopulateWrite;
        const version = value === null || !o.versionOf ? undefined : o.versionOf(value);
        const entry = this.#policy.buildEntry(value, o, now, loadedAt, version);
        let encoded: Buffer | null = null;
        try {
          encoded = this.#codec.encodeEntry(entry);
        } catch (err) {
          this.#log.warn('populate-encode', { key, ...errorFields(err) }, 'cache value could not be encoded');
        }
        if (encoded === null || encoded.length > this.#maxValueBytes) {
          if (lease.lease) await this.#leases.releaseNow(lease.lease);
          results[i] = encoded === null ? 'error' : 'skipped_too_large';
          continue;
        }
        entries.push({
          key,
          value: encoded,
          ttlSeconds: this.#policy.memcachedTtl(entry, now),
          ...(lease.cas === undefined ? {} : { cas: lease.cas }),
        });
        sentIndexes.push(i);
      }
      const outcomes = await this.#setMany(entries);
      outcomes.forEach((outcome, j) => {
        results[sentIndexes[j] as number] =
          outcome === 'stored' ? 'stored' : outcome === 'not_stored' ? 'lost_lease' : 'error';
      });
      if (this.#tracing.hasSubscribers('populate')) {
        writes.forEach(({ key }, i) => this.#tracing.publish('populate', { key, result: results[i] }));
      }
      return results;
    }, writes.length);
  }

  async deleteQuietly(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      this.#failures.report('delete', key, err);
    }
  }

  /** A delete that must land: rethrows unless the key's node is known down (CacheUnavailableError). */
  async deleteConfirmed(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      this.#failures.report('delete', key, err);
      if (err instanceof CacheUnavailableError) return;
      throw new CacheWriteNotConfirmedError(`delete of ${key} did not reach memcached`, { cause: err });
    }
  }

  /** The store's pipelined setMany, or one CAS set per entry for stores without it. */
  async #setMany(entries: EncodedWrite[]): Promise<SetOutcome[]> {
    if (entries.length === 0) return [];
    if (this.#store.setMany) {
      try {
        return await this.#store.setMany(entries);
      } catch (err) {
        this.#failures.report('setMany', (entries[0] as EncodedWrite).key, err);
        return entries.map(() => 'failed');
      }
    }
    return Promise.all(
      entries.map(({ key, value, ttlSeconds, cas }) =>
        this.#store.set(key, value, ttlSeconds, cas === undefined ? {} : { cas }).then(
          (stored): SetOutcome => (stored ? 'stored' : 'not_stored'),
          (err: unknown): SetOutcome => {
            this.#failures.report('set', key, err);
            return 'failed';
          },
        ),
      ),
    );
  }
}
