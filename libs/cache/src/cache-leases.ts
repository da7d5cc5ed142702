import type { BackgroundTasks } from './background-tasks.js';
import type { CacheFailures } from './cache-failures.js';
import type { CacheStore } from './cache-options.js';
import type { EntryCodec } from './entry.js';
import { newLeaseToken, refreshLeaseKey, type ResolvedLeaseOptions } from './lease.js';

/** A placeholder this process wrote: released (if still ours) when the load behind it fails. */
export interface LeasePlaceholder {
  key: string;
  token: string;
}

/** A lease this process holds on a key: where the populate's CAS comes from. */
export interface Held {
  /** absent with leases off: the populate is a plain `set` */
  cas?: bigint;
  /** the placeholder (under the key itself, or the refresh-lease key) released if the load fails */
  lease?: LeasePlaceholder;
}

/**
 * Leases as memcached placeholders (Facebook's "Scaling Memcache", section 3.2.1): an `add` of a
 * placeholder under an absent key, or under a refresh key bound to the CAS of an expired item,
 * makes its writer the one loader in the cluster; the CAS of the placeholder guards the populate.
 */
export class CacheLeases {
  readonly #store: CacheStore;
  readonly #codec: EntryCodec;
  readonly #opts: ResolvedLeaseOptions;
  readonly #failures: CacheFailures;
  readonly #background: BackgroundTasks;

  constructor(opts: {
    store: CacheStore;
    codec: EntryCodec;
    lease: ResolvedLeaseOptions;
    failures: CacheFailures;
    background: BackgroundTasks;
  }) {
    this.#store = opts.store;
    this.#codec = opts.codec;
    this.#opts = opts.lease;
    this.#failures = opts.failures;
    this.#background = opts.background;
  }

  /** A placeholder under the absent `key`: held when won, null when someone else was first. Throws when the cache fails. */
  async addPlaceholder(key: string): Promise<Held | null> {
    const token = newLeaseToken();
    const cas = await this.#store.add(key, this.#codec.encodeLease(token), this.#opts.leaseTtlSeconds);
    return cas === null ? null : { cas, lease: { key, token } };
  }

  /** The one refresh of the item with this CAS: won, lost to another process, or error (counted). */
  async acquireRefresh(
    key: string,
    cas: bigint,
  ): Promise<{ state: 'won'; lease: LeasePlaceholder } | { state: 'lost' | 'error' }> {
    const leaseKey = refreshLeaseKey(key, cas);
    const token = newLeaseToken();
    try {
      const leaseCas = await this.#store.add(
        leaseKey,
        this.#codec.encodeLease(token),
        this.#opts.leaseTtlSeconds,
      );
      return leaseCas === null ? { state: 'lost' } : { state: 'won', lease: { key: leaseKey, token } };
    } catch (err) {
      this.#failures.report('add', leaseKey, err);
      return { state: 'error' };
    }
  }

  /** After a failed load, so waiters don't poll a placeholder nobody will fill. */
  release(lease: LeasePlaceholder): void {
    this.#background.track(this.releaseNow(lease));
  }

  async releaseNow({ key, token }: LeasePlaceholder): Promise<void> {
    try {
      const item = await this.#store.get(key);
      if (!item) return;
      const decoded = this.#codec.decode(item.value);
      // Only our own placeholder: the window between get and delete can at worst delete someone
      // else's newer lease, which makes their populate fail (a lost write, never a stale one).
      if (decoded.kind === 'lease' && decoded.token === token) await this.#store.delete(key);
    } catch (err) {
      this.#failures.report('delete', key, err);
    }
  }
}
