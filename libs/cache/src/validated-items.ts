/*
 * 10k keys of (CAS, length) pairs is ~1 MB at most; a hot set larger than that only costs the
 * keys that fall out one more parse and validate each.
 */
const MAX_REMEMBERED = 10_000;

/**
 * The stored items whose value this process has already parsed and validated, by key and CAS.
 * memcached gives every write of a key a new CAS, so an entry another writer puts under the key
 * (a poisoned one included) is validated again on its first read here; serving the same item's
 * bytes again needs only the CRC check, not another parse.
 */
export class ValidatedItems {
  readonly #items = new Map<string, { cas: bigint; length: number }>();

  has(key: string, cas: bigint, length: number): boolean {
    const seen = this.#items.get(key);
    return seen !== undefined && seen.cas === cas && seen.length === length;
  }

  remember(key: string, cas: bigint, length: number): void {
    this.#items.delete(key);
    if (this.#items.size >= MAX_REMEMBERED) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.#items.keys().next();
      if (!oldest.done) this.#items.delete(oldest.value);
    }
    this.#items.set(key, { cas, length });
  }
}
