import type { Cache } from './cache-aside.js';

export interface VersionFloorsOptions<Id> {
  /** The floor's own key for an entity id (a key space of its own, not the copy's key). */
  keyOf: (id: Id) => string;
  /**
   * How long a floor is kept: longer than the owner may take to fix its own cache after the
   * commit it published at (its own write, or its consumer of the same event if it died).
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

  /** The floors of those of `ids` that have one; a floor that cannot be read counts as none. */
  async read(ids: readonly Id[]): Promise<Map<Id, number>> {
    const versions = await Promise.all(ids.map((id) => this.#cache.cachedVersion(this.#opts.keyOf(id))));
    const floors = new Map<Id, number>();
    ids.forEach((id, i) => {
      const version = versions[i];
      if (version !== undefined) floors.set(id, version);
    });
    return floors;
  }
}
