import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheEntry } from './entry.js';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from './logger.js';
import { noopCacheMetrics, type AuditResult, type CacheMetrics } from './metrics.js';

/**
 * What a service implements so its cache can be audited: which ids to look at and the
 * source-of-truth state of each, as a version (compared with the version the entry recorded:
 * `versionOf` on populate, `writeThrough`'s version) or, for copies that keep no version, as
 * the current value (compared field by field with the fields the cached value has).
 * Implement exactly one of `loadVersions` and `loadValues`.
 */
export interface AuditSource {
  /** Report and metrics label, e.g. 'product'. */
  namespace: string;
  /**
   * Up to `count` ids to check. Include ids of deleted rows now and then (random ids in the
   * key range do): an entry of a deleted row is only found by looking at its key.
   * `signal` aborts when the auditor stops; passing it on (to fetch, a query) ends the work too.
   */
  sampleIds(count: number, signal?: AbortSignal): Promise<string[]>;
  /** The cache key an id is stored under. */
  keyOf(id: string): string;
  /** The current version of each id; an id left out of the map has no row (deleted). */
  loadVersions?(ids: string[], signal?: AbortSignal): Promise<Map<string, number>>;
  /** The current value of each id (a superset of a cached copy's fields); left out = deleted. */
  loadValues?(ids: string[], signal?: AbortSignal): Promise<Map<string, unknown>>;
}

/** What one pass found in one namespace. `sampled` = fresh + stale + orphan. */
export interface AuditReport {
  namespace: string;
  /** ids looked at */
  checked: number;
  /** cached entries compared (ids with no entry are not counted) */
  sampled: number;
  fresh: number;
  stale: number;
  orphan: number;
  /** entries without a recorded version: not judged */
  unversioned: number;
  /** ids found stale or orphaned (for logs and the operator table) */
  staleIds: string[];
  orphanIds: string[];
}

/** The part of Cache the auditor reads through (Cache implements it). */
export interface AuditedCache {
  peek(key: string): Promise<CacheEntry<unknown> | undefined>;
}

export interface CacheAuditorOptions {
  cache: AuditedCache;
  sources: AuditSource[];
  /** ids per namespace per pass. Default 20. */
  sampleSize?: number;
  /** Pause between passes. Default 30000 ms. */
  intervalMs?: number;
  /**
   * A suspect is checked again this much later and counted only if it is still behind: an
   * invalidation in flight (commit, outbox, broker, consumer: milliseconds to a few seconds)
   * is not staleness. Default 5000 ms.
   */
  graceMs?: number;
  metrics?: CacheMetrics;
  logger?: LoggerLike;
}

type Verdict = AuditResult | 'absent' | 'unversioned';

/**
 * Measures staleness instead of assuming it is zero (the Cache Inspector of Uber's CacheFront):
 * samples cached entries, compares each entry's version with the source of truth's, and counts
 * `stale` (older than the row) and `orphan` (the row is gone) entries. Read-only: it never fixes
 * what it finds, so the counters show what the invalidation pipeline missed. Costs one cache get
 * and a share of one batched source read per sampled id, off the request path.
 */
export class CacheAuditor {
  readonly #cache: AuditedCache;
  readonly #sources: AuditSource[];
  readonly #sampleSize: number;
  readonly #intervalMs: number;
  readonly #graceMs: number;
  readonly #metrics: CacheMetrics;
  readonly #log: RateLimitedLogger;
  #timer: NodeJS.Timeout | null = null;
  #stopped = true;
  /** Aborted by stop(): every pass in flight (scheduled or `auditOnce`) ends at its next await. */
  #stopping = new AbortController();
  readonly #passes = new Set<Promise<unknown>>();

  constructor(opts: CacheAuditorOptions) {
    this.#cache = opts.cache;
    this.#sources = opts.sources;
    this.#sampleSize = Math.max(1, opts.sampleSize ?? 20);
    this.#intervalMs = Math.max(10, opts.intervalMs ?? 30_000);
    this.#graceMs = Math.max(0, opts.graceMs ?? 5000);
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#log = new RateLimitedLogger(opts.logger ?? silentLogger);
  }

  /**
   * Audits every `intervalMs` in the background (a pass never overlaps the next). The first
   * pass comes one interval after start: a service starting has a cold cache and better uses.
   */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.#schedule(this.#intervalMs);
  }

  /**
   * Aborts every pass in flight and resolves once they ended: a pass waiting out its grace
   * window (seconds) or a slow source read must not hold a shutdown that closes the cache and
   * the database right after. An aborted pass records nothing.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // The standard reason: an `AbortError` DOMException, what fetch and timers reject with too.
    this.#stopping.abort();
    await Promise.allSettled([...this.#passes]);
  }

  /**
   * One pass over every source (counted in the metrics); `sampleSize` overrides the option.
   * Rejects when `signal` aborts or the auditor is stopped meanwhile.
   */
  async auditOnce(
    sampleSize = this.#sampleSize,
    options: { signal?: AbortSignal } = {},
  ): Promise<AuditReport[]> {
    const signal = options.signal
      ? AbortSignal.any([this.#stopping.signal, options.signal])
      : this.#stopping.signal;
    const pass = Promise.all(this.#sources.map((source) => this.#auditSource(source, sampleSize, signal)));
    this.#passes.add(pass);
    try {
      return await pass;
    } finally {
      this.#passes.delete(pass);
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.auditOnce()
        .then((reports) => {
          for (const r of reports) {
            if (r.stale + r.orphan === 0) continue;
            this.#log.warn(
              `audit-${r.namespace}`,
              { namespace: r.namespace, stale: r.staleIds, orphan: r.orphanIds },
              'cache auditor found entries behind the source of truth',
            );
          }
        })
        .catch((err) => {
          if (this.#stopped) return;
          this.#log.warn('audit-failed', errorFields(err), 'cache audit pass failed');
        })
        .finally(() => this.#schedule(this.#intervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  async #auditSource(source: AuditSource, sampleSize: number, signal: AbortSignal): Promise<AuditReport> {
    const ids = [...new Set(await untilAborted(source.sampleIds(sampleSize, signal), signal))];
    const first = await this.#judge(source, ids, signal);
    const suspects = ids.filter((id) => isSuspect(first.get(id)));
    let final = first;
    if (suspects.length > 0 && this.#graceMs > 0) {
      await sleep(this.#graceMs, undefined, { signal, ref: false });
      const again = await this.#judge(source, suspects, signal);
      final = new Map([...first, ...again]);
    }
    signal.throwIfAborted();
    const report: AuditReport = {
      namespace: source.namespace,
      checked: ids.length,
      sampled: 0,
      fresh: 0,
      stale: 0,
      orphan: 0,
      unversioned: 0,
      staleIds: [],
      orphanIds: [],
    };
    for (const id of ids) {
      const verdict = final.get(id) ?? 'absent';
      if (verdict === 'absent') continue;
      if (verdict === 'unversioned') {
        report.unversioned += 1;
        continue;
      }
      report.sampled += 1;
      report[verdict] += 1;
      if (verdict === 'stale') report.staleIds.push(id);
      if (verdict === 'orphan') report.orphanIds.push(id);
      this.#metrics.recordAuditedEntry(source.namespace, verdict);
    }
    return report;
  }

  /** The cache is read before the source: an entry can only look older than a row read after it. */
  async #judge(source: AuditSource, ids: string[], signal: AbortSignal): Promise<Map<string, Verdict>> {
    const entries = await untilAborted(
      Promise.all(ids.map((id) => this.#cache.peek(source.keyOf(id)))),
      signal,
    );
    const cachedIds = ids.filter((_, i) => entries[i] !== undefined);
    const verdicts = new Map<string, Verdict>();
    if (source.loadValues) {
      const values =
        cachedIds.length > 0
          ? await untilAborted(source.loadValues(cachedIds, signal), signal)
          : new Map<string, unknown>();
      ids.forEach((id, i) => verdicts.set(id, judgeCopy(entries[i], values.has(id), values.get(id))));
      return verdicts;
    }
    if (!source.loadVersions)
      throw new TypeError(`audit source ${source.namespace} has neither loadVersions nor loadValues`);
    const versions =
      cachedIds.length > 0
        ? await untilAborted(source.loadVersions(cachedIds, signal), signal)
        : new Map<string, number>();
    ids.forEach((id, i) => verdicts.set(id, judgeEntry(entries[i], versions.get(id))));
    return verdicts;
  }
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts: a source that ignores the signal
 * (a driver without cancellation) must not hold stop(); its late result is dropped.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function judgeEntry(entry: CacheEntry<unknown> | undefined, sourceVersion: number | undefined): Verdict {
  if (entry === undefined) return 'absent';
  const negative = entry.value === null;
  if (sourceVersion === undefined) return negative ? 'fresh' : 'orphan';
  // A cached "not found" for a row that exists is as wrong as an old version.
  if (negative) return 'stale';
  if (entry.version === undefined) return 'unversioned';
  return entry.version < sourceVersion ? 'stale' : 'fresh';
}

function judgeCopy(entry: CacheEntry<unknown> | undefined, exists: boolean, current: unknown): Verdict {
  if (entry === undefined) return 'absent';
  if (entry.value === null) return exists ? 'stale' : 'fresh';
  if (!exists) return 'orphan';
  return sameFields(entry.value, current) ? 'fresh' : 'stale';
}

/** Every field of the cached copy equals the current value's field (JSON equality). */
function sameFields(cached: unknown, current: unknown): boolean {
  if (typeof cached !== 'object' || cached === null || typeof current !== 'object' || current === null) {
    return JSON.stringify(cached) === JSON.stringify(current);
  }
  const now = current as Record<string, unknown>;
  return Object.entries(cached as Record<string, unknown>).every(
    ([field, value]) => JSON.stringify(value) === JSON.stringify(now[field]),
  );
}

function isSuspect(verdict: Verdict | undefined): boolean {
  return verdict === 'stale' || verdict === 'orphan';
}
