import type { CacheCluster } from '@memshop/cache';

type Callback<T> = (err: Error | null, result: T) => void;

/**
 * The part of the `memcached` npm client's callback API that rate-limiter-flexible's
 * RateLimiterMemcache calls (incr, add, set, get, del: see its lib/RateLimiterMemcache.js),
 * answered by this service's own memcached ring.
 *
 * Why not the `memcached` client RateLimiterMemcache is written for: it speaks only the text
 * protocol, so it cannot authenticate with SASL as the compose stack's memcached requires, and
 * it would open a second set of connections with failure handling of its own beside the ring's
 * ejection and gutter. Why not RateLimiterMemory alone: each instance would count for itself and
 * the limit would grow with the replica count. The counters are plain memcached counters
 * (ASCII decimals, `incr` is atomic on the node that owns the key), so instances share them.
 */
export class MemcachedRateLimitStore {
  readonly #cluster: CacheCluster;

  constructor(cluster: CacheCluster) {
    this.#cluster = cluster;
  }

  /** false when the counter is missing: the limiter then creates it with `add` and its window as TTL. */
  incr(key: string, amount: number, callback: Callback<number | false>): void {
    this.#cluster.incrIfPresent(key, amount).then(
      (value) => callback(null, value === null ? false : Number(value)),
      (err: Error) => callback(err, false),
    );
  }

  add(key: string, value: number, lifetimeSeconds: number, callback: Callback<boolean>): void {
    this.#cluster.add(key, encode(value), lifetimeSeconds).then(
      (cas) => callback(null, cas !== null),
      (err: Error) => callback(err, false),
    );
  }

  set(key: string, value: number, lifetimeSeconds: number, callback: Callback<boolean>): void {
    this.#cluster.set(key, encode(value), lifetimeSeconds).then(
      (stored) => callback(null, stored),
      (err: Error) => callback(err, false),
    );
  }

  get(key: string, callback: Callback<number | false>): void {
    this.#cluster.get(key).then(
      (item) => callback(null, item ? Number(item.value.toString('ascii')) : false),
      (err: Error) => callback(err, false),
    );
  }

  del(key: string, callback: Callback<boolean>): void {
    this.#cluster.delete(key).then(
      (deleted) => callback(null, deleted),
      (err: Error) => callback(err, false),
    );
  }
}

function encode(value: number): Buffer {
  return Buffer.from(String(Math.trunc(value)), 'ascii');
}
