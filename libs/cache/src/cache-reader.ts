import type { Span } from '@opentelemetry/api';
import type { CacheFailures } from './cache-failures.js';
import type { CacheLeases } from './cache-leases.js';
import type {
  CacheItemLike,
  CacheResult,
  CacheStatus,
  CacheStore,
  ResolvedOptions,
} from './cache-options.js';
import type { CacheWriter, PopulateWrite } from './cache-writer.js';
import type { EntryPolicy } from './entry-policy.js';
import type { DecodedItem } from './entry.js';
import type { CacheMetrics, CacheRequestResult } from './metrics.js';
import {
  KeyRead,
  type LoadedValue,
  type ReadMachine,
  type ReadStep,
  type SettledStep,
} from './read-machine.js';
import type { TimedLoader } from './timed-loader.js';

/** The result of one key's read, shared by the concurrent callers of that key. */
export type Flight =
  | { ok: true; value: unknown; status: CacheStatus; metric: CacheRequestResult }
  | { ok: false; error: unknown; metric: CacheRequestResult };

type LoadGroup = Array<{ read: KeyRead; step: Extract<ReadStep, { kind: 'load' }> }>;

/**
 * The two read paths, both drivers of ReadMachine (the per-key state machine): a single key
 * runs it with one get and one loader call; a batch runs it for every key after one getMany,
 * and loads every key it won the lease of (or must load without the cache) in one loader call.
 * Keys whose lease another process holds wait for that process in both paths.
 */
export class CacheReader {
  readonly #store: CacheStore;
  readonly #policy: EntryPolicy;
  readonly #machine: ReadMachine;
  readonly #writer: CacheWriter;
  readonly #leases: CacheLeases;
  readonly #failures: CacheFailures;
  readonly #metrics: CacheMetrics;
  readonly #loads: TimedLoader;
  readonly #clock: () => number;

  constructor(opts: {
    store: CacheStore;
    policy: EntryPolicy;
    machine: ReadMachine;
    writer: CacheWriter;
    leases: CacheLeases;
    failures: CacheFailures;
    metrics: CacheMetrics;
    loads: TimedLoader;
    clock: () => number;
  }) {
    this.#store = opts.store;
    this.#policy = opts.policy;
    this.#machine = opts.machine;
    this.#writer = opts.writer;
    this.#leases = opts.leases;
    this.#failures = opts.failures;
    this.#metrics = opts.metrics;
    this.#loads = opts.loads;
    this.#clock = opts.clock;
  }

  /**
   * The work shared by concurrent callers of one key. A fresh entry is settled right here
   * (one cluster get, one decode and validate, no further awaits, nothing allocated for the
   * machine); everything else goes through the machine with the item already decoded.
   */
  async flight(key: string, loader: () => Promise<unknown>, o: ResolvedOptions): Promise<Flight> {
    let item: CacheItemLike | null;
    try {
      item = await this.#store.get(key);
    } catch (err) {
      const metric = this.#failures.report('get', key, err);
      try {
        const value = await this.#loads.run(o.entity, key, loader);
        return { ok: true, value, status: 'bypass', metric };
      } catch (error) {
        return { ok: false, error, metric };
      }
    }
    let decoded: DecodedItem | null = null;
    if (item !== null) {
      decoded = this.#policy.decode(key, item, o);
      if (decoded.kind === 'entry') {
        const entry = decoded.entry;
        if (this.#policy.freshness(key, entry, this.#clock(), o) === 'fresh') {
          return { ok: true, value: entry.value, status: 'hit', metric: 'hit' };
        }
      }
    }
    const read = new KeyRead(key);
    try {
      const { value, status } = await this.#resolve(read, item, decoded, loader, o);
      return { ok: true, value, status, metric: read.metric(status) };
    } catch (error) {
      return { ok: false, error, metric: read.failure ?? 'miss' };
    }
  }

  /** One key through the machine, from its first read to its value. */
  async #resolve(
    read: KeyRead,
    item: CacheItemLike | null,
    decoded: DecodedItem | null,
    loader: () => Promise<unknown>,
    o: ResolvedOptions,
  ): Promise<LoadedValue> {
    let step = await this.#machine.next(read, item, decoded, loader, o);
    if (step.kind === 'wait') step = (await this.#machine.wait([read], () => loader, o))[0] as SettledStep;
    if (step.kind === 'done') return step;
    return this.#machine.load(read, step, loader, o);
  }

  /** See Cache.getManyOrLoad; `keys` are unique and not empty. Records one request metric per key. */
  async batch(
    keys: string[],
    loader: (missing: string[]) => Promise<Map<string, unknown>>,
    o: ResolvedOptions,
    span: Span | undefined,
  ): Promise<Map<string, CacheResult<unknown>>> {
    let found = new Map<string, CacheItemLike>();
    let failed = new Set<string>();
    let failure: CacheRequestResult = 'error';
    try {
      ({ found, failed } = await this.#store.getMany(keys));
    } catch (err) {
      failure = this.#failures.report('getMany', keys[0] as string, err);
      failed = new Set(keys);
    }
    const loadOne = (key: string) => async () => (await loader([key])).get(key) ?? null;
    const reads = keys.map((key) => new KeyRead(key));
    const steps = await Promise.all(
      reads.map((read): Promise<ReadStep> => {
        if (!failed.has(read.key)) {
          return this.#machine.next(read, found.get(read.key) ?? null, null, loadOne(read.key), o);
        }
        read.failure = failure;
        return Promise.resolve({ kind: 'load', lease: null, status: 'bypass' });
      }),
    );

    const results = new Map<string, LoadedValue>();
    const grouped: LoadGroup = [];
    const waiting: KeyRead[] = [];
    reads.forEach((read, i) => {
      const step = steps[i] as ReadStep;
      if (step.kind === 'done') results.set(read.key, { value: step.value, status: step.status });
      else if (step.kind === 'load') grouped.push({ read, step });
      else waiting.push(read);
    });
    const settled = await Promise.allSettled([
      this.#loadGroup(grouped, results, loader, o),
      // Held by another process: waited for as single keys are, then loaded together.
      this.#waitThenLoad(waiting, results, loader, loadOne, o),
    ]);

    const metricOf = (read: KeyRead) => {
      const result = results.get(read.key);
      return result ? read.metric(result.status) : (read.failure ?? 'miss');
    };
    for (const read of reads) this.#metrics.recordRequest(o.entity, metricOf(read));
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    span?.setAttribute('cache.hits', [...results.values()].filter((r) => r.status === 'hit').length);
    // In the caller's key order.
    return new Map(keys.map((key) => [key, results.get(key) as CacheResult<unknown>]));
  }

  /** The batch's keys held elsewhere: one wait for all of them, then one loader call for those left. */
  async #waitThenLoad(
    reads: KeyRead[],
    results: Map<string, LoadedValue>,
    loader: (missing: string[]) => Promise<Map<string, unknown>>,
    loadOne: (key: string) => () => Promise<unknown>,
    o: ResolvedOptions,
  ): Promise<void> {
    if (reads.length === 0) return;
    const steps = await this.#machine.wait(reads, loadOne, o);
    const group: LoadGroup = [];
    reads.forEach((read, i) => {
      const step = steps[i] as SettledStep;
      if (step.kind === 'done') results.set(read.key, { value: step.value, status: step.status });
      else group.push({ read, step });
    });
    await this.#loadGroup(group, results, loader, o);
  }

  /**
   * The batch's `load` steps in one loader call; the values won under a lease are written in
   * one populate job. When the loader fails, every key falls back on its stale value, or the
   * batch fails (a batch answers all its keys or none).
   */
  async #loadGroup(
    group: LoadGroup,
    results: Map<string, LoadedValue>,
    loader: (missing: string[]) => Promise<Map<string, unknown>>,
    o: ResolvedOptions,
  ): Promise<void> {
    if (group.length === 0) return;
    const keys = group.map(({ read }) => read.key);
    const loadedAt = this.#clock();
    let loaded: Map<string, unknown>;
    try {
      loaded = await this.#loads.run(o.entity, keys.length === 1 ? keys[0] : undefined, () => loader(keys));
    } catch (err) {
      for (const { step } of group) if (step.lease?.lease) this.#leases.release(step.lease.lease);
      // All or nothing: fallbackOr throws for the first key without a servable stale value.
      const fallbacks = group.map(({ read }) => this.#machine.fallbackOr(read, err));
      group.forEach(({ read }, i) => results.set(read.key, fallbacks[i] as LoadedValue));
      return;
    }
    const writes: PopulateWrite[] = [];
    for (const { read, step } of group) {
      const value = loaded.get(read.key) ?? null;
      results.set(read.key, { value, status: step.status });
      if (step.lease) writes.push({ key: read.key, value, lease: step.lease });
    }
    this.#writer.populateMany(writes, o, loadedAt);
  }
}
