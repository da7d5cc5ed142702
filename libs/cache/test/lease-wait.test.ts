import { randomBytes } from 'node:crypto';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import type { CacheStore } from '../src/cache-options.js';
import { CacheCluster } from '../src/cluster.js';
import { encodeLease } from '../src/codec.js';
import { defaultEntryCodec } from '../src/entry.js';
import type { LeaseOptions } from '../src/lease.js';

jest.setTimeout(60_000);

let memcached: MemcachedCluster;
const clusters: CacheCluster[] = [];

/** A process's view of the cluster: its own connections, and how many keys it has read. */
interface Instance {
  cache: Cache;
  cluster: CacheCluster;
  reads: { keys: number };
}

function newCluster(): CacheCluster {
  // Op timeouts are not under test here; a starved CI box must not eject a healthy node.
  const cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: 5_000 });
  clusters.push(cluster);
  return cluster;
}

/** A Cache on a cluster of its own (separate memjs connections, as another process would have). */
function newInstance(lease?: LeaseOptions): Instance {
  const cluster = newCluster();
  const reads = { keys: 0 };
  const store: CacheStore = {
    get: (key) => {
      reads.keys += 1;
      return cluster.get(key);
    },
    getMany: (keys) => {
      reads.keys += keys.length;
      return cluster.getMany(keys);
    },
    setMany: (entries) => cluster.setMany(entries),
    set: (key, value, ttl, opts) => cluster.set(key, value, ttl, opts),
    add: (key, value, ttl, opts) => cluster.add(key, value, ttl, opts),
    delete: (key) => cluster.delete(key),
    incr: (key, delta, opts) => cluster.incr(key, delta, opts),
  };
  return { cache: new Cache({ cluster: store, ...(lease ? { lease } : {}) }), cluster, reads };
}

function freshKey(label: string): string {
  return `test:lease-wait:${label}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves once `condition` holds (checked every few ms). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * With the poll backoff (10 ms growing to 50 ms, each jittered down by at most half), 20 polls
 * take more than 400 ms: past the 300 ms after which waiters used to give up and load.
 */
const POLLS_PAST_OLD_BOUND = 20;

beforeAll(async () => {
  memcached = await startMemcachedCluster(3);
});

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  await memcached?.stop();
});

describe('waiting on another process lease', () => {
  it('makes one loader call across three instances while a slow holder is alive', async () => {
    const [a, b, c] = [newInstance(), newInstance(), newInstance()] as [Instance, Instance, Instance];
    const key = freshKey('slow-holder');
    const started = gate();
    const release = gate();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      started.open();
      await release.promise;
      return 'from-the-holder';
    };
    const holder = a.cache.getOrLoad(key, loader);
    await started.promise;
    const before = { b: b.reads.keys, c: c.reads.keys };
    const waiters = [a, b, c].flatMap(({ cache }) =>
      Array.from({ length: 50 }, () => cache.getOrLoad(key, loader)),
    );
    // The holder stays slow until both other instances have waited past the old bound.
    await until(
      () =>
        b.reads.keys - before.b >= POLLS_PAST_OLD_BOUND && c.reads.keys - before.c >= POLLS_PAST_OLD_BOUND,
    );
    release.open();
    const results = await Promise.all([holder, ...waiters]);
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'from-the-holder')).toBe(true);
    expect(results.filter((r) => r.status === 'bypass')).toHaveLength(0);
    await Promise.all([a, b, c].map(({ cache }) => cache.drain()));
  });

  it('makes a batch wait for a key another instance is loading, and load only the rest', async () => {
    const [a, b] = [newInstance(), newInstance()] as [Instance, Instance];
    const held = freshKey('batch-held');
    const free = freshKey('batch-free');
    const started = gate();
    const release = gate();
    let heldLoads = 0;
    const holder = a.cache.getOrLoad(held, async () => {
      heldLoads += 1;
      started.open();
      await release.promise;
      return 'held-value';
    });
    await started.promise;
    const batchLoads: string[][] = [];
    const before = b.reads.keys;
    const batch = b.cache.getManyOrLoad([held, free], async (keys) => {
      batchLoads.push(keys);
      if (keys.includes(held)) heldLoads += 1;
      return new Map(keys.map((k) => [k, `batch-${k}`]));
    });
    await until(() => b.reads.keys - before >= POLLS_PAST_OLD_BOUND);
    release.open();
    const [, results] = await Promise.all([holder, batch]);
    expect(heldLoads).toBe(1);
    expect(batchLoads).toEqual([[free]]);
    expect(results.get(held)).toEqual({ value: 'held-value', status: 'hit' });
    expect(results.get(free)).toEqual({ value: `batch-${free}`, status: 'miss' });
    await Promise.all([a.cache.drain(), b.cache.drain()]);
  });

  it('takes over the lease of a holder that died, once the lease expires', async () => {
    const dead = newInstance({ leaseTtlSeconds: 2 });
    // A wait bound far past the lease TTL: the takeover, not the bound, must end this wait even
    // when a starved box runs memcached's expiry clock late.
    const next = newInstance({ leaseTtlSeconds: 2, leaseWaitMs: 30_000 });
    const key = freshKey('dead-holder');
    const started = gate();
    void dead.cache.getOrLoad(key, async () => {
      started.open();
      return new Promise<string>(() => undefined);
    });
    await started.promise;
    // The holder's process goes away without releasing: its connections close, the placeholder stays.
    await dead.cluster.close();
    const placeholder = await next.cluster.get(key);
    expect(placeholder && defaultEntryCodec.decode(placeholder.value).kind).toBe('lease');
    let calls = 0;
    const result = await next.cache.getOrLoad(key, async () => {
      calls += 1;
      return 'taken-over';
    });
    expect(result).toEqual({ value: 'taken-over', status: 'miss' });
    expect(calls).toBe(1);
    await next.cache.drain();
    // It loaded under a lease of its own, so the value was written for everyone.
    const reader = newInstance();
    const again = await reader.cache.getOrLoad(key, async () => 'not-called');
    expect(again).toEqual({ value: 'taken-over', status: 'hit' });
  });

  it('gives up at the caller deadline and loads without writing, the lease untouched', async () => {
    const waiter = newInstance();
    const key = freshKey('deadline');
    await waiter.cluster.add(key, encodeLease('a-live-holder'), 30);
    const deadline = new AbortController();
    const before = waiter.reads.keys;
    let calls = 0;
    const reading = waiter.cache.getOrLoad(
      key,
      async () => {
        calls += 1;
        return 'loaded-myself';
      },
      { deadline: deadline.signal },
    );
    await until(() => waiter.reads.keys - before >= 3);
    expect(calls).toBe(0);
    deadline.abort();
    expect(await reading).toEqual({ value: 'loaded-myself', status: 'miss' });
    expect(calls).toBe(1);
    await waiter.cache.drain();
    expect((await waiter.cluster.get(key))?.value.equals(encodeLease('a-live-holder'))).toBe(true);
  });

  it('gives up at a deadline given as a time, with no signal, and loads without writing', async () => {
    const waiter = newInstance();
    const key = freshKey('deadline-at');
    await waiter.cluster.add(key, encodeLease('a-live-holder'), 30);
    const before = waiter.reads.keys;
    let calls = 0;
    const result = await waiter.cache.getOrLoad(
      key,
      async () => {
        calls += 1;
        return 'loaded-myself';
      },
      // Long enough for a few polls on a slow machine, far below the 6 s lease wait.
      { deadline: Date.now() + 300 },
    );
    expect(result).toEqual({ value: 'loaded-myself', status: 'miss' });
    expect(calls).toBe(1);
    expect(waiter.reads.keys - before).toBeGreaterThanOrEqual(1);
    await waiter.cache.drain();
    expect((await waiter.cluster.get(key))?.value.equals(encodeLease('a-live-holder'))).toBe(true);
  });

  it('a deadline already past ends the wait at once', async () => {
    const waiter = newInstance();
    const key = freshKey('deadline-past');
    await waiter.cluster.add(key, encodeLease('a-live-holder'), 30);
    const result = await waiter.cache.getOrLoad(key, async () => 'loaded-myself', {
      deadline: Date.now() - 1,
    });
    expect(result).toEqual({ value: 'loaded-myself', status: 'miss' });
  });

  it('gives up on held batch keys at the caller deadline, loading them in a call of their own', async () => {
    const waiter = newInstance();
    const held = freshKey('batch-deadline-held');
    const free = freshKey('batch-deadline-free');
    await waiter.cluster.add(held, encodeLease('a-live-holder'), 30);
    const loads: string[][] = [];
    const results = await waiter.cache.getManyOrLoad(
      [held, free],
      async (keys) => {
        loads.push(keys);
        return new Map(keys.map((k) => [k, `loaded-${k}`]));
      },
      { deadline: AbortSignal.abort() },
    );
    expect(loads).toHaveLength(2);
    expect(loads).toContainEqual([free]);
    expect(loads).toContainEqual([held]);
    expect(results.get(held)).toEqual({ value: `loaded-${held}`, status: 'miss' });
    await waiter.cache.drain();
    expect((await waiter.cluster.get(held))?.value.equals(encodeLease('a-live-holder'))).toBe(true);
  });
});

describe('leases off (lease.enabled: false)', () => {
  test('every process that misses loads, nobody waits, no placeholder is written', async () => {
    const key = freshKey('off');
    const instances = [newInstance({ enabled: false }), newInstance({ enabled: false })];
    const loading = gate();
    let started = 0;
    const loader = async () => {
      started += 1;
      await loading.promise;
      return { v: 1 };
    };
    const reads = instances.map(({ cache }) => cache.getOrLoad(key, loader));
    // Both loaders run at once: neither process saw a placeholder to wait on.
    await until(() => started === 2);
    const [probe] = instances as [Instance];
    expect(await probe.cluster.get(key)).toBeNull();
    loading.open();
    const results = await Promise.all(reads);
    expect(results.map((r) => r.status)).toEqual(['miss', 'miss']);
    await Promise.all(instances.map(({ cache }) => cache.drain()));
    const after = await probe.cache.getOrLoad(key, loader);
    expect(after).toMatchObject({ value: { v: 1 }, status: 'hit' });
    expect(started).toBe(2);
  });
});
