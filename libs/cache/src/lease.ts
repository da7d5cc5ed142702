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
   * false: plain cache-aside (a miss loads and `set`s the value, no placeholder, nobody waits),
   * so every process that misses a key at once loads it and the last write wins, stale sets
   * included. For measuring what leases are worth (a cold cache's database peak), not for
   * production. In-process single-flight still merges one process's concurrent misses. Default true.
   */
  enabled?: boolean;
  /**
   * memcached TTL of a placeholder or refresh lease. It bounds how long a crashed loader can
   * hold a key: its placeholder expires and the next waiter's poll takes the lease over. A live
   * loader slower than this loses its lease too (its write fails, nothing stale lands), and one
   * waiter loads again; no heartbeat extends it, as in Facebook's leases, because a heartbeat
   * would only help loads that outlast every caller's patience. Default 5 s.
   */
  leaseTtlSeconds?: number;
  /**
   * The longest a request waits for a value another process holds the lease for, before it calls
   * the loader itself (without writing the cache). A waiter keeps waiting while the holder's lease
   * is alive, however slow the holder, so this is a ceiling, not a guess of the loader's speed:
   * the second bound is the caller's own `deadline` (GetOrLoadOptions), whichever comes first.
   * Default: the lease TTL plus one second (memcached expires items on a one-second clock, so a
   * lease it saw lives at most that long; then the waiter takes the lease over itself).
   */
  leaseWaitMs?: number;
  /**
   * Poll interval while waiting: starts at `pollMinMs` and grows by half each poll up to
   * `pollMaxMs`, each delay jittered down by up to half (so waiters don't poll in lockstep and a
   * long wait costs a poll every ~`pollMaxMs`, not a busy loop). Defaults 10 / 50 ms.
   */
  pollMinMs?: number;
  pollMaxMs?: number;
}

export type ResolvedLeaseOptions = Required<LeaseOptions>;

export function resolveLeaseOptions(opts: LeaseOptions = {}): ResolvedLeaseOptions {
  const pollMinMs = Math.max(1, opts.pollMinMs ?? 10);
  const leaseTtlSeconds = Math.max(1, Math.ceil(opts.leaseTtlSeconds ?? 5));
  return {
    enabled: opts.enabled ?? true,
    leaseTtlSeconds,
    leaseWaitMs: Math.max(0, opts.leaseWaitMs ?? (leaseTtlSeconds + 1) * 1000),
    pollMinMs,
    pollMaxMs: Math.max(pollMinMs, opts.pollMaxMs ?? 50),
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

/** The delay before poll number `attempt` (0-based) of one wait: backoff, then jitter. */
export function pollDelayMs(
  opts: ResolvedLeaseOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.pollMaxMs, opts.pollMinMs * 1.5 ** Math.min(attempt, 32));
  return Math.max(1, Math.round(ceiling * (1 - random() / 2)));
}

/** Resolves after `ms`, or as soon as `deadline` aborts (the timer is then cleared). */
export function sleep(ms: number, deadline?: AbortSignal): Promise<void> {
  if (!deadline) return new Promise((resolve) => setTimeout(resolve, ms));
  return new Promise((resolve) => {
    if (deadline.aborted) return resolve();
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      deadline.removeEventListener('abort', wake);
      resolve();
    }, ms);
    deadline.addEventListener('abort', wake, { once: true });
  });
}
