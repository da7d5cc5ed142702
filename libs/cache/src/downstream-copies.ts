import type { Cache } from './cache-aside.js';
import { keySpace, type KeySpace } from './keys.js';

const KEY_SPACE_NAME = /^([^:]+):([^:]+):v([^:]+)$/;

/**
 * A key space from its name as `keySpace` prints it without the trailing colon,
 * `<prefix>:<entity>:v<schemaVersion>` (`order:product:v1`), for configuration that names
 * another service's key space. Throws a TypeError on any other shape.
 */
export function parseKeySpace(name: string): KeySpace {
  const parts = KEY_SPACE_NAME.exec(name.trim());
  if (!parts) throw new TypeError(`key space "${name}" must look like <prefix>:<entity>:v<schemaVersion>`);
  return keySpace({ prefix: parts[1]!, entity: parts[2]!, schemaVersion: parts[3]! });
}

/**
 * Other services' copies of one of this service's entities, keyed by the same id in key spaces
 * of theirs, purged by this service's writer once its own cache holds the new row: a refill
 * that follows reads the new version, and the copy is gone before the write is answered,
 * without waiting for the broker. Facebook's mcsqueal and Uber's CacheFront invalidate from the
 * write path too, with the event stream behind it.
 *
 * Best effort by design. A purge that fails is logged and counted by the cache and never
 * fails the write; a writer that dies after its commit purges nothing. The entity's event still
 * reaches every copy's owner, which purges (and floors) on its own terms, so this shortens the
 * time to the purge and replaces none of it. A key space that names no copy (an owner that
 * changed its schema version, or runs elsewhere) costs one delete per write and nothing else.
 * Not for copies held in process (a near cache): only their owner's instances can drop those.
 */
export class DownstreamCopies {
  readonly #cache: Pick<Cache, 'invalidate'>;
  readonly #keySpaces: readonly KeySpace[];

  constructor(cache: Pick<Cache, 'invalidate'>, keySpaces: readonly KeySpace[]) {
    this.#cache = cache;
    this.#keySpaces = keySpaces;
  }

  /** The copies' keys of `ids`, in every key space. */
  keysOf(ids: readonly (string | number)[]): string[] {
    return ids.flatMap((id) => this.#keySpaces.map((space) => space.key(String(id))));
  }

  /** Deletes the copies of `ids`; resolves whether or not memcached answered. */
  async purge(ids: readonly (string | number)[]): Promise<void> {
    const keys = this.keysOf(ids);
    if (keys.length > 0) await this.#cache.invalidate(keys);
  }
}
