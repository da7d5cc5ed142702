import { crc32 } from 'node:zlib';

/*
 * 10k keys of (CAS, length, checksum) is ~1 MB at most; a hot set larger than that only costs the
 * keys that fall out one more parse and validate each.
 */
const MAX_REMEMBERED = 10_000;

/**
 * The stored items whose value this process has already parsed and validated, by key, CAS and a
 * checksum of the whole item. memcached gives every write of a key a new CAS, so an entry another
 * writer puts under the key (a poisoned one included) is validated again on its first read here;
 * the checksum covers what CAS does not: CAS counters restart with a node and differ between
 * nodes (a key that moves with the ring), and a store may not report CAS at all. Serving the same
 * item again costs a checksum, not another parse.
 */
export class ValidatedItems {
  readonly #items = new Map<string, { cas: bigint; length: number; checksum: number }>();

  has(key: string, item: { cas: bigint; value: Buffer }): boolean {
    const seen = this.#items.get(key);
    return (
      seen !== undefined &&
      seen.cas === item.cas &&
      seen.length === item.value.length &&
      seen.checksum === crc32(item.value)
    );
  }

  remember(key: string, item: { cas: bigint; value: Buffer }): void {
    this.#items.delete(key);
    if (this.#items.size >= MAX_REMEMBERED) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.#items.keys().next();
      if (!oldest.done) this.#items.delete(oldest.value);
    }
    this.#items.set(key, { cas: item.cas, length: item.value.length, checksum: crc32(item.value) });
  }
}
