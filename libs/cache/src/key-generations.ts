import type { CacheFailures } from './cache-failures.js';
import type { CacheStore } from './cache-options.js';
import type { CacheWriter } from './cache-writer.js';
import { toMemcachedKey } from './keys.js';

/**
 * Generation counters for keys that cannot be purged one by one (lists, pages): the key embeds
 * the generation, and a bump abandons every key built with the old one.
 */
export class KeyGenerations {
  readonly #store: CacheStore;
  readonly #writer: CacheWriter;
  readonly #failures: CacheFailures;
  readonly #prefix: string;
  readonly #clock: () => number;
  readonly #random: () => number;

  constructor(opts: {
    store: CacheStore;
    writer: CacheWriter;
    failures: CacheFailures;
    prefix: string;
    clock: () => number;
    random: () => number;
  }) {
    this.#store = opts.store;
    this.#writer = opts.writer;
    this.#failures = opts.failures;
    this.#prefix = opts.prefix;
    this.#clock = opts.clock;
    this.#random = opts.random;
  }

  /**
   * A missing counter is created at the current time in ms, not at 1: after an eviction or a
   * node loss the new counter is above every generation handed out before (unless the name was
   * bumped more than once per millisecond on average), so old keys are never read again. When
   * the counter cannot be read, a one-off negative generation is returned: the value is loaded
   * from the database and what gets written under it is never read.
   */
  async current(name: string): Promise<number> {
    const key = this.#counterKey(name);
    try {
      return Number(await this.#store.incr(key, 0, { initial: BigInt(this.#clock()), ttlSeconds: 0 }));
    } catch (err) {
      this.#failures.report('incr', key, err);
      return -this.#clock() - Math.floor(this.#random() * 1000);
    }
  }

  async bump(name: string, confirm: boolean): Promise<void> {
    const key = this.#counterKey(name);
    try {
      await this.#store.incr(key, 1, { initial: BigInt(this.#clock()), ttlSeconds: 0 });
    } catch (err) {
      this.#failures.report('incr', key, err);
      // A failed bump would leave old keys readable; deleting the counter has the same effect
      // as a bump (recreated at the current time) once its node answers again.
      await (confirm ? this.#writer.deleteConfirmed(key) : this.#writer.deleteQuietly(key));
    }
  }

  #counterKey(name: string): string {
    return toMemcachedKey(`${this.#prefix}${name}`);
  }
}
