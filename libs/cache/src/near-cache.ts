import { LRUCache } from 'lru-cache';
import { isLease } from './codec.js';
import type { CacheItemLike, CacheStore } from './cache-options.js';
import { defaultEntryCodec, type EntryCodec } from './entry.js';
import { HotKeys } from './hot-keys.js';
import { noopCacheMetrics, type CacheMetrics, type NearCacheEvictionReason } from './metrics.js';

export interface NearCacheOptions {
  /** The distributed tier (a CacheCluster). Required. */
  store: CacheStore;
  /** Keys starting with one of these are held in the near cache when hot; others always go to `store`. Required. */
  keyPrefixes: string[];
  /** Bound of the held bytes (value + key + per-entry overhead). Default 16777216 (16 MiB). */
  maxBytes?: number;
  /**
   * Longest an entry is held. Default 5000: the same 5 s the gap rule (`gapTtlSeconds`) accepts
   * for entries written while events may be missed, here the backstop for an event that never
   * arrives while the feed looks connected; at 1000 reads/s of one key it still saves 4999 in 5000
   * memcached reads.
   */
  ttlMs?: number;
  hotKeys?: {
    /** Reads per second of one key before it is held. 0 holds every key read. Default 10. */
    minReadsPerSecond?: number;
    /** Read counters kept at once (least recently read dropped first). Default 10000. */
    maxTrackedKeys?: number;
  };
  /** How entries are read (their soft expiry and version). Default: the codec.ts envelope. */
  codec?: EntryCodec;
  /** Default: none recorded. */
  metrics?: CacheMetrics;
  /** Epoch ms, the same clock as the Cache's. Default `Date.now`. */
  clock?: () => number;
}

type SetManyResult = 'stored' | 'not_stored' | 'failed';

interface HeldItem {
  item: CacheItemLike;
  /** The memcached entry's soft expiry: never served from here after it. */
  freshUntil: number;
}

/** What one read in flight holds; replaced when the key is evicted, so that read is not kept. */
interface ReadToken {
  reads: number;
}

// Rough heap cost of one held entry beyond its value and key (the LRU's slots, the item object,
// the Buffer header); enough to make a flood of tiny values count against the byte bound.
const ENTRY_OVERHEAD_BYTES = 160;
// How long an event's version is remembered as the floor of its key: longer than the bus
// delivery and the durable consumer's memcached refresh, so an older value that is still in
// memcached when the event arrives is not held again.
const VERSION_FLOOR_TTL_MS = 60_000;
const VERSION_FLOOR_MAX_KEYS = 10_000;

/**
 * An in-process tier (L1) in front of the distributed one, as a CacheStore wrapper: it holds the
 * memcached item (bytes, flags, cas) of hot keys under `keyPrefixes`, so every read path of the
 * Cache benefits and decodes as before. It is coherent through three rules:
 *
 * - every write through it (set, setMany, add, delete, incr) drops the key's copy before and
 *   after the write, and a read that was in flight meanwhile is not kept: this process reads its
 *   own writes at once;
 * - `evict` (the instance's own invalidation feed) drops a key and remembers the event's
 *   version, below which the key is not held again;
 * - while the feed is disconnected (`setFeedConnected(false)`) nothing is read from or held here,
 *   and everything is dropped again on reconnect (events missed while away).
 *
 * It starts disconnected: until a feed says otherwise it only passes reads through.
 */
export class NearCache implements CacheStore {
  readonly #store: CacheStore;
  readonly #prefixes: string[];
  readonly #ttlMs: number;
  readonly #codec: EntryCodec;
  readonly #metrics: CacheMetrics;
  readonly #clock: () => number;
  readonly #hotKeys: HotKeys;
  readonly #held: LRUCache<string, HeldItem>;
  readonly #floors = new LRUCache<string, number>({ max: VERSION_FLOOR_MAX_KEYS, ttl: VERSION_FLOOR_TTL_MS });
  readonly #reads = new Map<string, ReadToken>();
  readonly #maxBytes: number;
  #active = false;
  /**
   * For `ttlMs` after the last clear, entries stored (loaded or written) before it are not held.
   * A clear means events may have been missed (the feed went down or came back) or an event
   * named no keys (every copy suspect); an entry from before it may be one the event's writer has
   * not fixed in memcached yet. They are still served from memcached, just not kept here. After
   * `ttlMs` the writers of those events have fixed memcached (at once, or a dead writer's
   * through its service's consumer of the outbox's publish), and any entry is held again: a warm
   * cluster's entries, stored long before this process connected, are what a hot key is made of.
   */
  #heldOnlyFrom = 0;
  /** Dropped by the LRU for room, told apart from the drops this class makes itself. */
  #sizeEvictions = 0;

  constructor(opts: NearCacheOptions) {
    this.#store = opts.store;
    this.#prefixes = [...opts.keyPrefixes];
    this.#maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.#ttlMs = opts.ttlMs ?? 5000;
    this.#codec = opts.codec ?? defaultEntryCodec;
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#clock = opts.clock ?? Date.now;
    this.#hotKeys = new HotKeys({
      minReadsPerSecond: opts.hotKeys?.minReadsPerSecond ?? 10,
      maxTrackedKeys: opts.hotKeys?.maxTrackedKeys ?? 10_000,
      clock: this.#clock,
    });
    this.#held = new LRUCache<string, HeldItem>({
      maxSize: this.#maxBytes,
      sizeCalculation: (held, key) => held.item.value.length + key.length * 2 + ENTRY_OVERHEAD_BYTES,
      ttl: this.#ttlMs,
      // Expired entries are dropped on the read that finds them; no timers per entry.
      ttlAutopurge: false,
      dispose: (_held, _key, reason) => {
        if (reason === 'evict') this.#sizeEvictions += 1;
      },
    });
  }

  /** Bytes held now (the LRU's calculated size); never above `maxBytes`. */
  get heldBytes(): number {
    return this.#held.calculatedSize;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Keys held now. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether `key` is held now (tests, the audit). */
  holds(key: string): boolean {
    return this.#held.has(key);
  }

  /** True while reads may be served from here (the feed is connected). */
  get active(): boolean {
    return this.#active;
  }

  /**
   * The instance's invalidation feed went up or down. Both ways everything held is dropped:
   * going down, events may be missed from now on; coming up, they may have been missed.
   */
  setFeedConnected(connected: boolean): void {
    this.#active = connected;
    this.clear();
  }

  /** Drops `key`; with the event's version, values older than it are not held again. */
  evict(key: string, version?: number): void {
    if (version !== undefined) {
      const floor = this.#floors.get(key);
      if (floor === undefined || version > floor) this.#floors.set(key, version);
    }
    this.#drop(key, 'event');
  }

  /** Drops everything held (an event whose keys cannot be named, a feed gap). */
  clear(): void {
    this.#heldOnlyFrom = this.#clock();
    const count = this.#held.size;
    this.#held.clear();
    // Reads in flight started before the clear: what they bring back is not kept.
    this.#reads.clear();
    if (count > 0) this.#metrics.recordNearCacheEviction('clear', count);
    this.#reportBytes();
  }

  async get(key: string): Promise<CacheItemLike | null> {
    if (!this.#covers(key)) return this.#store.get(key);
    if (!this.#active) {
      this.#metrics.recordNearCacheRead('bypass');
      return this.#store.get(key);
    }
    const held = this.#fresh(key);
    if (held) {
      this.#metrics.recordNearCacheRead('hit');
      return held.item;
    }
    this.#metrics.recordNearCacheRead('miss');
    if (!this.#hotKeys.recordRead(key)) return this.#store.get(key);
    const token = this.#beginRead(key);
    try {
      const item = await this.#store.get(key);
      if (item) this.#keep(key, item, token);
      return item;
    } finally {
      this.#endRead(key, token);
    }
  }

  async getMany(keys: string[]): Promise<{ found: Map<string, CacheItemLike>; failed: Set<string> }> {
    const found = new Map<string, CacheItemLike>();
    const rest: string[] = [];
    const tokens = new Map<string, ReadToken>();
    for (const key of keys) {
      if (!this.#covers(key)) {
        rest.push(key);
        continue;
      }
      if (!this.#active) {
        this.#metrics.recordNearCacheRead('bypass');
        rest.push(key);
        continue;
      }
      const held = this.#fresh(key);
      if (held) {
        this.#metrics.recordNearCacheRead('hit');
        found.set(key, held.item);
        continue;
      }
      this.#metrics.recordNearCacheRead('miss');
      if (this.#hotKeys.recordRead(key) && !tokens.has(key)) tokens.set(key, this.#beginRead(key));
      rest.push(key);
    }
    if (rest.length === 0) return { found, failed: new Set() };
    try {
      const result = await this.#store.getMany(rest);
      for (const [key, item] of result.found) {
        found.set(key, item);
        const token = tokens.get(key);
        if (token) this.#keep(key, item, token);
      }
      return { found, failed: result.failed };
    } finally {
      for (const [key, token] of tokens) this.#endRead(key, token);
    }
  }

  set(
    key: string,
    value: Buffer,
    ttlSeconds: number,
    opts?: { cas?: bigint; flags?: number },
  ): Promise<boolean> {
    return this.#write(key, () => this.#store.set(key, value, ttlSeconds, opts));
  }

  async setMany(
    entries: Array<{ key: string; value: Buffer; ttlSeconds: number; cas?: bigint }>,
  ): Promise<SetManyResult[]> {
    const covered = entries.filter((e) => this.#covers(e.key)).map((e) => e.key);
    for (const key of covered) this.#drop(key, 'write');
    try {
      if (this.#store.setMany) return await this.#store.setMany(entries);
      return await Promise.all(
        entries.map((e) =>
          this.#store
            .set(e.key, e.value, e.ttlSeconds, e.cas === undefined ? undefined : { cas: e.cas })
            .then(
              (ok): SetManyResult => (ok ? 'stored' : 'not_stored'),
              (): SetManyResult => 'failed',
            ),
        ),
      );
    } finally {
      for (const key of covered) this.#drop(key, 'write');
    }
  }

  add(key: string, value: Buffer, ttlSeconds: number, opts?: { flags?: number }): Promise<bigint | null> {
    return this.#write(key, () => this.#store.add(key, value, ttlSeconds, opts));
  }

  delete(key: string): Promise<boolean> {
    return this.#write(key, () => this.#store.delete(key));
  }

  incr(
    key: string,
    delta: number | bigint,
    opts?: { initial?: bigint; ttlSeconds?: number },
  ): Promise<bigint> {
    return this.#write(key, () => this.#store.incr(key, delta, opts));
  }

  /** The wrapped store's (a CacheCluster's ring changes): entries it serves here carry the same risk. */
  ownerChangedAt(key: string): number | undefined {
    return this.#store.ownerChangedAt?.(key);
  }

  /**
   * Drops the key before the write (this process never reads its old copy once the write
   * started) and after it (a read that raced the write may have brought back the old value).
   */
  async #write<R>(key: string, run: () => Promise<R>): Promise<R> {
    if (!this.#covers(key)) return run();
    this.#drop(key, 'write');
    try {
      return await run();
    } finally {
      this.#drop(key, 'write');
    }
  }

  #covers(key: string): boolean {
    for (const prefix of this.#prefixes) if (key.startsWith(prefix)) return true;
    return false;
  }

  #fresh(key: string): HeldItem | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    if (this.#clock() < held.freshUntil) return held;
    this.#held.delete(key);
    this.#reportBytes();
    return undefined;
  }

  #beginRead(key: string): ReadToken {
    let token = this.#reads.get(key);
    if (!token) {
      token = { reads: 0 };
      this.#reads.set(key, token);
    }
    token.reads += 1;
    return token;
  }

  #endRead(key: string, token: ReadToken): void {
    token.reads -= 1;
    if (token.reads === 0 && this.#reads.get(key) === token) this.#reads.delete(key);
  }

  /**
   * Holds what a read brought back, unless the key was dropped while it was in flight (the
   * token was replaced), it is a lease placeholder (another process is loading: never served
   * from here), it is not a decodable entry, it is older than an event said, or its soft
   * expiry is already near.
   */
  #keep(key: string, item: CacheItemLike, token: ReadToken): void {
    if (!this.#active || this.#reads.get(key) !== token) return;
    if (isLease(item.value)) return;
    const decoded = this.#codec.decode(item.value);
    if (decoded.kind !== 'entry') return;
    const { freshUntil, version, storedAt } = decoded.entry;
    if (storedAt < this.#heldOnlyFrom && this.#clock() < this.#heldOnlyFrom + this.#ttlMs) return;
    const floor = this.#floors.get(key);
    if (floor !== undefined && (version === undefined || version < floor)) return;
    const ttl = Math.min(this.#ttlMs, freshUntil - this.#clock());
    if (ttl <= 0) return;
    const evictionsBefore = this.#sizeEvictions;
    // A value read off the socket can be a view into a larger chunk; holding the view would keep
    // the whole chunk alive beyond the byte bound, so a copy of exactly the value is held.
    const value = item.value;
    const own = value.byteLength === value.buffer.byteLength ? item : { ...item, value: Buffer.from(value) };
    this.#held.set(key, { item: own, freshUntil }, { ttl });
    if (!this.#held.has(key)) return;
    this.#metrics.recordNearCachePromotion();
    const pushedOut = this.#sizeEvictions - evictionsBefore;
    if (pushedOut > 0) this.#metrics.recordNearCacheEviction('size', pushedOut);
    this.#reportBytes();
  }

  #drop(key: string, reason: NearCacheEvictionReason): void {
    this.#reads.delete(key);
    if (this.#held.delete(key)) {
      this.#metrics.recordNearCacheEviction(reason, 1);
      this.#reportBytes();
    }
  }

  #reportBytes(): void {
    this.#metrics.setNearCacheBytes(this.#held.calculatedSize);
  }
}
