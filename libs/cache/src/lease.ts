import { createHash, randomBytes } from 'node:crypto';

/**
 * Leases (Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013, section 3.2.1).
 *
 * A miss `add`s a placeholder under the key itself; `add` succeeds for exactly one client in
 * the whole cluster, which loads and replaces the placeholder with a CAS `set` using the CAS
 * `add` returned. An invalidation in between deletes the placeholder, so that CAS fails and the
 * value read before the write never lands (the stale set). Everyone else sees the placeholder
 * and polls for the value instead of hitting the database (the stampede).
 *
 * An entry that exists but is past its soft expiry is refreshed the same way, except the lease
 * is a separate `<key>:refresh:<cas>` item (the stale value must stay readable meanwhile) and
 * the refresher's CAS is the one of the stale item it read.
 */
export interface LeaseOptions {
  /**
   * memcached TTL of a placeholder or refresh lease. It bounds how long a crashed loader can
   * hold a key; a loader slower than this loses its lease (its write fails, nothing stale
   * lands). Default 5 s.
   */
  leaseTtlSeconds?: number;
  /**
   * How long a request that finds a placeholder polls for the value before it calls the loader
   * itself (without writing the cache). Default 300 ms: well above a primary-key load's p99
   * (a few ms to tens of ms), below what a user notices on top of it.
   */
  leaseWaitMs?: number;
  /** Poll interval, uniformly jittered between these (so waiters don't poll in lockstep). Defaults 10 / 25 ms. */
  pollMinMs?: number;
  pollMaxMs?: number;
}

export type ResolvedLeaseOptions = Required<LeaseOptions>;

export function resolveLeaseOptions(opts: LeaseOptions = {}): ResolvedLeaseOptions {
  const pollMinMs = Math.max(1, opts.pollMinMs ?? 10);
  return {
    leaseTtlSeconds: Math.max(1, Math.ceil(opts.leaseTtlSeconds ?? 5)),
    leaseWaitMs: Math.max(0, opts.leaseWaitMs ?? 300),
    pollMinMs,
    pollMaxMs: Math.max(pollMinMs, opts.pollMaxMs ?? 25),
  };
}

/** Random token identifying one lease holder (so it only ever releases its own placeholder). */
export function newLeaseToken(): string {
  return randomBytes(12).toString('base64url');
}

const MAX_KEY_BYTES = 250;

/**
 * Key of the refresh lease for one version (CAS) of `key`'s item. Per version, so a refresh
 * lease never has to be released after a successful refresh: it only blocks refreshing the
 * item that was just replaced, and expires on its own. Hashed if it would cross memcached's
 * 250-byte key limit.
 */
export function refreshLeaseKey(key: string, cas: bigint): string {
  const suffix = `:refresh:${cas.toString(36)}`;
  const candidate = key + suffix;
  if (Buffer.byteLength(candidate) <= MAX_KEY_BYTES) return candidate;
  return `lease:${createHash('sha1').update(key).digest('hex')}${suffix}`;
}

export function pollDelayMs(opts: ResolvedLeaseOptions, random: () => number = Math.random): number {
  return opts.pollMinMs + Math.floor(random() * (opts.pollMaxMs - opts.pollMinMs + 1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
