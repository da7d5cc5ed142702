import { createHash } from 'node:crypto';
import { MAX_KEY_BYTES } from './transport/binary-protocol.js';

export { MAX_KEY_BYTES };

export interface KeySpaceOptions {
  /** The owning service, e.g. 'catalog'. Letters, digits, '_', '-', '.'. */
  prefix: string;
  /** The entity, e.g. 'product'. Same characters as `prefix`. */
  entity: string;
  /**
   * Bump when the cached shape of the entity changes: new code reads and writes new keys, old
   * entries expire unread, and old and new code can run side by side during a deploy.
   */
  schemaVersion: number | string;
}

export interface KeySpace {
  /** `<prefix>:<entity>:v<schemaVersion>:` */
  readonly prefix: string;
  /**
   * `catalog:product:v1:<escaped id>`, or `catalog:product:v1:n<nsVersion>:<escaped id>` for a
   * versioned namespace (bumping the namespace version orphans every key built with the old one).
   */
  key(id: string | number | bigint, nsVersion?: number | bigint): string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Every cache key of one entity is built here, so its schema version is never forgotten. */
export function keySpace(opts: KeySpaceOptions): KeySpace {
  for (const [field, value] of [
    ['prefix', opts.prefix],
    ['entity', opts.entity],
    ['schemaVersion', String(opts.schemaVersion)],
  ] as const) {
    if (!NAME.test(value)) {
      throw new TypeError(`keySpace ${field} "${value}" must be letters, digits, '_', '-' or '.'`);
    }
  }
  const prefix = `${opts.prefix}:${opts.entity}:v${opts.schemaVersion}:`;
  return {
    prefix,
    key(id, nsVersion) {
      const ns = nsVersion === undefined ? '' : `n${nsVersion}:`;
      return toMemcachedKey(prefix + ns + escapeId(id));
    },
  };
}

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
 * Ids come from users (URL paths, query strings): percent-encoding leaves no space, control
 * character or ':' (so an id cannot forge another key's structure) and never emits '#', which
 * marks hashed keys. A string with lone UTF-16 surrogates cannot be percent-encoded; it is hashed.
 */
export function escapeId(id: string | number | bigint): string {
  const text = String(id);
  try {
    return encodeURIComponent(text);
  } catch {
    return `#u${createHash('sha1').update(Buffer.from(text, 'utf16le')).digest('base64url')}`;
  }
}

const SHA1_BASE64URL_CHARS = 27;

/**
 * A key memcached accepts: at most 250 bytes, no spaces or control characters. A key that
 * already qualifies is returned as is; otherwise it becomes a readable prefix of itself, '#',
 * and the sha1 (base64url) of the whole key, so long keys stay distinct and greppable.
 */
export function toMemcachedKey(key: string): string {
  if (isValidMemcachedKey(key)) return key;
  const digest = createHash('sha1').update(key, 'utf8').digest('base64url');
  const readable = key.replace(/[^\x21-\x7e]/g, '_').slice(0, MAX_KEY_BYTES - 1 - SHA1_BASE64URL_CHARS);
  return `${readable}#${digest}`;
}

export function isValidMemcachedKey(key: string): boolean {
  // Printable ASCII only: the binary protocol would take more, memcached's text protocol and tools would not.
  return key.length > 0 && key.length <= MAX_KEY_BYTES && /^[\x21-\x7e]+$/.test(key);
}
