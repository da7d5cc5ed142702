import type { Cache } from './cache-aside.js';

export interface VersionFloorsOptions<Id> {
  /** The floor's own key for an entity id (a key space of its own, not the copy's key). */
  keyOf: (id: Id) => string;
  /**
   * How long a floor is kept: longer than the owner may take to fix its own cache after the
   * commit it published at (its own write, or its consumer of the same event if it died). The
   * cache's TTL jitter applies (default +-10%, so at least 0.9 of this), and the entry stays
   * readable through the grace window after it.
   */
  ttlSeconds: number;
  /** Metrics and per-entity policy of the floor entries. Default 'version-floor'. */
  entity?: string;
}

/**
 * The least version of an entity a copy may be refilled with, shared by every instance through
 * memcached. For a service that keeps copies of another service's entities when that owner
 * publishes its event at the commit, before its own cache holds the new row: a copy purged by
 * the event and refilled at once could read the version before from the owner's cache. The
 * consumer raises the floor to the event's version before (or with, purging again after) its
 * purge; a refill reads the floors of what it loads, and reads below them from the owner's
 * database instead.
 *
 * What it relies on: the copies are filled under leases (the consumer's second purge fails a
 * populate that read before the floor), the owner's API returns each entity's version, and the
 * floor keys are not in a near-cached (L1) entity. A floor is a cache entry: memcached may
 * evict it early, or lose it with its node. A lost floor reopens only the window it guards,
 * from the owner's commit to its own cache fix, milliseconds after the event.
 */
export class VersionFloors<Id> {
  readonly #cache: Pick<Cache, 'writeThrough' | 'cachedVersion'>;
  readonly #opts: Required<VersionFloorsOptions<Id>>;

  constructor(cache: Pick<Cache, 'writeThrough' | 'cachedVersion'>, opts: VersionFloorsOptions<Id>) {
    this.#cache = cache;
    this.#opts = { entity: 'version-floor', ...opts };
  }

  /**
   * Raises the floor of `id` to `version` (a versioned write: an older event arriving late never
   * lowers it). Rejects unless a floor of at least `version` is read back, so a consumer does not
   * ack an event whose floor is missing: `writeThrough` settles a failed or contended write by
   * deleting the key, which is safe for a copy and not for a floor.
   */
  async raise(id: Id, version: number): Promise<void> {
    const key = this.#opts.keyOf(id);
    await this.#cache.writeThrough(key, version, {
      version,
      ttlSeconds: this.#opts.ttlSeconds,
      entity: this.#opts.entity,
      confirm: true,
    });
    const stored = await this.#cache.cachedVersion(key);
    if (stored === undefined || stored < version) {
      throw new Error(`version floor ${key} not raised to ${version} (read back ${stored ?? 'none'})`);
    }
  }

  /**
   * The floors of those of `ids` that have one. A floor that cannot be read (its node did not
   * answer) is Infinity: nothing cached is known to be new enough, so the caller reads the
   * owner's database. Treating it as "no floor" would let a refill take the version before from
   * the owner's cache in exactly the window the floor exists for.
   */
  async read(ids: readonly Id[]): Promise<Map<Id, number>> {
    const reads = await Promise.allSettled(
      ids.map((id) => this.#cache.cachedVersion(this.#opts.keyOf(id), { strict: true })),
    );
    const floors = new Map<Id, number>();
    ids.forEach((id, i) => {
      const read = reads[i]!;
      if (read.status === 'rejected') floors.set(id, Number.POSITIVE_INFINITY);
      else if (read.value !== undefined) floors.set(id, read.value);
    });
    return floors;
  }
}
