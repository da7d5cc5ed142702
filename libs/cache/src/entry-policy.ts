import type { CacheItemLike, CacheStore, ResolvedOptions } from './cache-options.js';
import { StoredJson, type CacheEntry, type DecodedItem, type EntryCodec } from './entry.js';
import type { InvalidationFeedStatus } from './invalidation-feed-status.js';
import type { RateLimitedLogger } from './logger.js';
import type { CacheTracing } from './tracing.js';
import { ValidatedItems } from './validated-items.js';

const MAX_RELATIVE_TTL_SECONDS = 60 * 60 * 24 * 30;

/** What a read found under a key, the input of both read paths' decisions. */
export type ItemState =
  | { kind: 'absent' }
  | { kind: 'corrupt' }
  | { kind: 'lease' }
  | { kind: 'fresh' | 'stale' | 'expired'; entry: CacheEntry<unknown> };

/**
 * How long an entry is trusted: decoding and validation, freshness (TTL, SWR, grace), the
 * missed-events rule while the invalidation feed is down, the moved-key rule after a change of
 * the key's owner (the store's ownerChangedAt), and the lifetimes of new entries.
 */
export class EntryPolicy {
  readonly #codec: EntryCodec;
  readonly #log: RateLimitedLogger;
  readonly #tracing: CacheTracing;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #gapTtlSeconds: number;
  readonly #ownerChangedAt: ((key: string) => number | undefined) | undefined;
  readonly #validated = new ValidatedItems();
  #feed: { status: InvalidationFeedStatus; entities: Set<string>; off: () => void } | null = null;

  constructor(opts: {
    codec: EntryCodec;
    log: RateLimitedLogger;
    tracing: CacheTracing;
    clock: () => number;
    random: () => number;
    gapTtlSeconds: number;
    store: CacheStore;
  }) {
    this.#codec = opts.codec;
    this.#log = opts.log;
    this.#tracing = opts.tracing;
    this.#clock = opts.clock;
    this.#random = opts.random;
    this.#gapTtlSeconds = opts.gapTtlSeconds;
    this.#ownerChangedAt = opts.store.ownerChangedAt?.bind(opts.store);
  }

  /** Follows `feed` for `entities`; `onReconnect` runs on every reconnect. Replaces an earlier feed. */
  watchFeed(feed: InvalidationFeedStatus, entities: string[], onReconnect: () => void): void {
    this.#feed?.off();
    const off = feed.onConnectionChange((connected) => {
      if (connected) onReconnect();
    });
    this.#feed = { status: feed, entities: new Set(entities), off };
  }

  unwatchFeed(): void {
    this.#feed?.off();
    this.#feed = null;
  }

  /** The state of `item` at `now`; `decoded` when the caller decoded it already. */
  classify(
    key: string,
    item: CacheItemLike | null,
    decoded: DecodedItem | null,
    now: number,
    o: ResolvedOptions,
  ): ItemState {
    if (item === null) return { kind: 'absent' };
    const d = decoded ?? this.decode(key, item, o);
    if (d.kind === 'corrupt') return { kind: 'corrupt' };
    if (d.kind === 'lease') return { kind: 'lease' };
    return { kind: this.freshness(key, d.entry, now, o), entry: d.entry };
  }

  decode(key: string, item: CacheItemLike, o: ResolvedOptions): DecodedItem {
    if (o.json) return this.#decodeJson(key, item, o);
    const decoded = this.#codec.decode(item.value);
    if (
      decoded.kind === 'entry' &&
      decoded.entry.value !== null &&
      o.validate &&
      !safeValidate(o.validate, decoded.entry.value)
    ) {
      return this.#failedValidation(key);
    }
    if (decoded.kind === 'corrupt') this.#undecodable(key);
    return decoded;
  }

  /**
   * A raw read: the entry checked (layout, length, CRC) but its value not parsed. The value is
   * parsed and validated once per stored item in this process (ValidatedItems, by CAS and checksum), not on
   * every hit: a hit on an item already validated here serves its bytes after the CRC check.
   */
  #decodeJson(key: string, item: CacheItemLike, o: ResolvedOptions): DecodedItem {
    if (!this.#codec.decodeJson) {
      const decoded = this.decode(key, item, { ...o, json: false });
      if (decoded.kind !== 'entry' || decoded.entry.value === null) return decoded;
      const bytes = Buffer.from(JSON.stringify(decoded.entry.value), 'utf8');
      return { kind: 'entry', entry: { ...decoded.entry, value: new StoredJson(bytes) } };
    }
    const decoded = this.#codec.decodeJson(item.value);
    if (decoded.kind === 'corrupt') {
      this.#undecodable(key);
      return decoded;
    }
    const stored = decoded.kind === 'entry' ? decoded.entry.value : null;
    if (!(stored instanceof StoredJson) || !o.validate) return decoded;
    if (this.#validated.has(key, item)) return decoded;
    let value: unknown;
    try {
      value = JSON.parse(stored.bytes.toString('utf8'));
    } catch {
      this.#undecodable(key);
      return { kind: 'corrupt', reason: 'not json' };
    }
    if (!safeValidate(o.validate, value)) return this.#failedValidation(key);
    this.#validated.remember(key, item);
    return decoded;
  }

  #failedValidation(key: string): DecodedItem {
    this.#log.warn('corrupt-entry', { key }, 'cached entry failed validation, treated as a miss');
    this.#tracing.publish('error', { op: 'validate', key, error: new Error('entry failed validation') });
    return { kind: 'corrupt', reason: 'failed validation' };
  }

  #undecodable(key: string): void {
    this.#log.warn('corrupt-entry', { key }, 'cached entry could not be decoded, treated as a miss');
    this.#tracing.publish('error', { op: 'decode', key, error: new Error('entry could not be decoded') });
  }

  freshness(
    key: string,
    entry: CacheEntry<unknown>,
    now: number,
    o: ResolvedOptions,
  ): 'fresh' | 'stale' | 'expired' {
    if (this.#distrusted(entry, o.entity) || this.#movedSince(key, entry)) return 'expired';
    if (now < entry.freshUntil) return 'fresh';
    // No SWR while the event feed is down: a stale value could be one whose purge we missed.
    if (this.#gapOpen(o.entity)) return 'expired';
    const swrUntil = Math.min(entry.graceUntil, entry.freshUntil + o.staleSeconds * 1000);
    return now < swrUntil ? 'stale' : 'expired';
  }

  servableOnError(entry: CacheEntry<unknown> | undefined): boolean {
    return entry !== undefined && entry.value !== null && this.#clock() < entry.graceUntil;
  }

  buildEntry(
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
    if (this.#gapOpen(o.entity)) ttlSeconds = Math.min(ttlSeconds, this.#gapTtlSeconds);
    const freshUntil = now + Math.round(ttlSeconds * 1000);
    return {
      ...base,
      value,
      freshUntil,
      graceUntil: freshUntil + Math.max(o.staleSeconds, o.graceSeconds) * 1000,
    };
  }

  /** The hard expiry given to memcached: the end of the grace window (the entry must outlive it). */
  memcachedTtl(entry: CacheEntry<unknown>, now: number): number {
    return Math.min(MAX_RELATIVE_TTL_SECONDS, Math.max(1, Math.ceil((entry.graceUntil - now) / 1000)));
  }

  #gapOpen(entity: string): boolean {
    const feed = this.#feed;
    return feed !== null && feed.entities.has(entity) && !feed.status.connected;
  }

  /**
   * An entry of an event-fed entity is not trusted when it was stored before the feed went
   * away (while it is away), or before the moment the feed's queue was found missing (its
   * purge may have been published into nothing): it is reloaded, one loader per key.
   */
  #distrusted(entry: CacheEntry<unknown>, entity: string): boolean {
    const feed = this.#feed;
    if (feed === null || !feed.entities.has(entity)) return false;
    const lostBefore = feed.status.eventsLostBefore;
    if (lostBefore != null && entry.storedAt < lostBefore) return true;
    if (feed.status.connected) return false;
    const since = feed.status.disconnectedSince;
    return since != null && entry.storedAt < since;
  }

  /**
   * An entry stored before `key` last changed owner may be a copy its current owner kept from
   * when it owned the key before, one that missed every write and delete sent to the other owner
   * meanwhile: reloaded like an entry from before a feed gap (one loader per key, still a
   * stale-if-error fallback).
   */
  #movedSince(key: string, entry: CacheEntry<unknown>): boolean {
    if (this.#ownerChangedAt === undefined) return false;
    const changedAt = this.#ownerChangedAt(key);
    // The same millisecond counts as before: the clock cannot order the two, and the cost of
    // guessing wrong is one extra reload against serving a value that missed writes.
    return changedAt !== undefined && entry.storedAt <= changedAt;
  }
}

function safeValidate(validate: (v: unknown) => boolean, value: unknown): boolean {
  try {
    return validate(value);
  } catch {
    return false;
  }
}
