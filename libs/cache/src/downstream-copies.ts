import type { Cache } from './cache-aside.js';
import type { KeySpace } from './keys.js';

/**
 * Other services' copies of one of this service's entities, keyed by the same id in key spaces
 * of theirs, deleted by this service's writer once its own cache holds the new row. The copy is
 * gone before the write is answered, without waiting for the broker, and a refill after that
 * usually reads the new version. The same move as Facebook's web servers deleting, in their own
 * cluster, the keys they just modified (read-after-write) while the commit log's stream
 * invalidates everywhere, and as Uber's CacheFront invalidating from the write path beside its
 * change-data-capture stream.
 *
 * Best effort by design, and never the guarantee. A failed delete is logged and counted by the
 * cache and never fails the write; a writer that dies after its commit purges nothing; a refill
 * can still read the version before from an owner's instance that has not heard of the write
 * (a load of the old row already running there, or its near cache). The entity's event reaches
 * every copy's owner, which purges (and floors) on its own terms, so this shortens the time to
 * the purge and replaces none of it. A key space that names no copy (an owner that changed its
 * schema version) costs one delete per write and nothing else.
 */
export class DownstreamCopies {
  readonly #cache: Pick<Cache, 'invalidate'>;
  readonly #keySpaces: readonly KeySpace[];

  constructor(cache: Pick<Cache, 'invalidate'>, keySpaces: readonly KeySpace[]) {
    this.#cache = cache;
    this.#keySpaces = keySpaces;
  }

  /** Deletes the copies of `ids` in every key space; resolves whether or not memcached answered. */
  async purge(ids: readonly (string | number)[]): Promise<void> {
    const keys = ids.flatMap((id) => this.#keySpaces.map((space) => space.key(String(id))));
    if (keys.length > 0) await this.#cache.invalidate(keys);
  }
}
