import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import type { CacheStore } from '../src/cache-options.js';
import { CacheCluster } from '../src/cluster.js';
import { encodeEnvelope, encodeLease, FORMAT_VERSION } from '../src/codec.js';
import type { InvalidationFeedStatus } from '../src/invalidation-feed-status.js';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { CACHE_METRIC_NAMES, createPromCacheMetrics } from '../src/metrics.js';
import { cacheChannelNames } from '../src/tracing.js';

jest.setTimeout(60_000);

interface Product {
  id: string;
  name: string;
  price: number;
}

const isProduct = (v: unknown): v is Product =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Product).id === 'string' &&
  typeof (v as Product).name === 'string' &&
  typeof (v as Product).price === 'number';

let memcached: MemcachedCluster;
const clusters: CacheCluster[] = [];

// No test here is about op timeouts (cluster-faults.test.ts is): a loaded 2-core CI machine can
// starve memcached past the production 150 ms, and a timeout would eject a healthy node mid-test.
const OP_TIMEOUT_MS = 5_000;

function newCluster(): CacheCluster {
  const cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: OP_TIMEOUT_MS });
  clusters.push(cluster);
  return cluster;
}

let keyCounter = 0;
/** The codec's own entry as another format version would label it (byte 1 of the header). */
function withFormatVersion(entry: Buffer, version: number): Buffer {
  const copy = Buffer.from(entry);
  copy[1] = version;
  return copy;
}

function freshKey(label: string): string {
  keyCounter += 1;
  return `test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:${keyCounter}`;
}

/** A promise whose resolution the test controls (a paused loader). */
function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

beforeAll(async () => {
  memcached = await startMemcachedCluster(3);
});

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  await memcached?.stop();
});

describe('Cache.getOrLoad against real memcached', () => {
  it('calls the loader exactly once for 200 concurrent misses in one process', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('single-flight');
    let calls = 0;
    const loaderGate = gate();
    const loader = async (): Promise<Product> => {
      calls += 1;
      await loaderGate.promise;
      return { id: '1', name: 'one', price: 10 };
    };
    const pending = Array.from({ length: 200 }, () => cache.getOrLoad(key, loader));
    // Let every caller reach the flight before the load finishes.
    await new Promise((r) => setImmediate(r));
    loaderGate.open();
    const results = await Promise.all(pending);
    expect(calls).toBe(1);
    expect(results.every((r) => r.status === 'miss' && r.value?.name === 'one')).toBe(true);
    await cache.drain();
  });

  it('returns a miss at once, populates in the background, then hits', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const key = freshKey('miss-hit');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return { id: '2', name: 'two', price: 20 };
    };
    const first = await cache.getOrLoad(key, loader, { validate: isProduct });
    expect(first).toEqual({ value: { id: '2', name: 'two', price: 20 }, status: 'miss' });
    await cache.drain();
    const second = await cache.getOrLoad(key, loader, { validate: isProduct });
    expect(second).toEqual({ value: { id: '2', name: 'two', price: 20 }, status: 'hit' });
    expect(calls).toBe(1);
  });

  it('never lets a load that started before an invalidation write its old value (stale set), 50 rounds', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const other = new Cache({ cluster: newCluster() });
    let stale = 0;
    for (let round = 0; round < 50; round += 1) {
      const key = freshKey('stale-set');
      let db = `v${round}-old`;
      const started = gate();
      const release = gate();
      // Reader: misses, takes the lease, reads the old row, then stalls before returning it.
      const reader = cache.getOrLoad(key, async () => {
        const row = db;
        started.open();
        await release.promise;
        return row;
      });
      await started.promise;
      // Writer (another process): commits, then invalidates.
      db = `v${round}-new`;
      await other.invalidate(key);
      release.open();
      expect((await reader).value).toBe(`v${round}-old`);
      await cache.drain();
      const after = await other.getOrLoad(key, async () => db);
      if (after.value !== db) stale += 1;
      await other.drain();
      const cached = await other.getOrLoad(key, async () => db);
      if (cached.value !== db) stale += 1;
    }
    expect(stale).toBe(0);
  });

  it('never lets a stale-while-revalidate refresh that started before an invalidation land', async () => {
    let now = Date.now();
    const clock = () => now;
    const cache = new Cache({ cluster: newCluster(), clock, defaults: { ttlSeconds: 10, jitterRatio: 0 } });
    let stale = 0;
    for (let round = 0; round < 20; round += 1) {
      const key = freshKey('swr-race');
      let db = 'v1';
      await cache.getOrLoad(key, async () => db);
      await cache.drain();
      now += 11_000;
      const started = gate();
      const release = gate();
      const served = await cache.getOrLoad(key, async () => {
        const row = db;
        started.open();
        await release.promise;
        return row;
      });
      expect(served).toEqual({ value: 'v1', status: 'stale' });
      await started.promise;
      db = 'v2';
      await cache.invalidate(key);
      release.open();
      await cache.drain();
      const after = await cache.getOrLoad(key, async () => db);
      if (after.value !== 'v2') stale += 1;
      await cache.drain();
    }
    expect(stale).toBe(0);
  });

  it('calls the loader once for 500 concurrent cold requests spread over two processes, 5 rounds', async () => {
    // A generous wait bound: the assertion is about leases, not about this machine's load.
    const lease = { leaseWaitMs: 5000 };
    const a = new Cache({ cluster: newCluster(), lease });
    const b = new Cache({ cluster: newCluster(), lease });
    for (let round = 0; round < 5; round += 1) {
      const key = freshKey('stampede');
      let calls = 0;
      const loader = async () => {
        calls += 1;
        await new Promise((r) => setTimeout(r, 20));
        return { id: String(round), name: 'hot', price: round };
      };
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? a : b).getOrLoad(key, loader)),
      );
      expect(calls).toBe(1);
      expect(results.every((r) => r.value?.name === 'hot')).toBe(true);
      await Promise.all([a.drain(), b.drain()]);
    }
  });

  it('serves stale while exactly one refresher reloads across two processes', async () => {
    let now = Date.now();
    const clock = () => now;
    const defaults = { ttlSeconds: 10, staleSeconds: 60, jitterRatio: 0 };
    const a = new Cache({ cluster: newCluster(), clock, defaults });
    const b = new Cache({ cluster: newCluster(), clock, defaults });
    const key = freshKey('swr');
    let db = 'v1';
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return db;
    };
    await a.getOrLoad(key, loader);
    await a.drain();
    now += 15_000;
    db = 'v2';
    calls = 0;
    // The refresh is held until every read has answered: otherwise a fast refresh can land
    // before the second process reads, and that read is (rightly) a fresh hit.
    const refreshHeld = gate();
    const slowLoader = async () => {
      await refreshHeld.promise;
      return loader();
    };
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).getOrLoad(key, slowLoader)),
    );
    expect(results.every((r) => r.status === 'stale' && r.value === 'v1')).toBe(true);
    refreshHeld.open();
    await Promise.all([a.drain(), b.drain()]);
    expect(calls).toBe(1);
    expect(await b.getOrLoad(key, loader)).toEqual({ value: 'v2', status: 'hit' });
    expect(calls).toBe(1);
  });

  it('serves the stale value within grace when the loader throws, and rethrows beyond it', async () => {
    let now = Date.now();
    const cache = new Cache({
      cluster: newCluster(),
      clock: () => now,
      defaults: { ttlSeconds: 10, staleSeconds: 5, graceSeconds: 100, jitterRatio: 0 },
    });
    const key = freshKey('stale-if-error');
    await cache.getOrLoad(key, async () => 'cached');
    await cache.drain();
    const down = async (): Promise<string> => {
      throw new Error('database down');
    };
    now += 50_000; // past fresh and SWR, within grace
    expect(await cache.getOrLoad(key, down)).toEqual({ value: 'cached', status: 'stale' });
    now += 100_000; // beyond grace
    await expect(cache.getOrLoad(key, down)).rejects.toThrow('database down');
    await expect(cache.getOrLoad(freshKey('never-cached'), down)).rejects.toThrow('database down');
    await cache.drain();
  });

  it('caches a null result for negativeTtlSeconds and forgets it on invalidate', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('negative');
    let calls = 0;
    let row: Product | null = null;
    const loader = async () => {
      calls += 1;
      return row;
    };
    expect(await cache.getOrLoad(key, loader, { negativeTtlSeconds: 30 })).toEqual({
      value: null,
      status: 'miss',
    });
    await cache.drain();
    for (let i = 0; i < 20; i += 1) {
      expect(await cache.getOrLoad(key, loader)).toEqual({ value: null, status: 'hit' });
    }
    expect(calls).toBe(1);
    row = { id: '9', name: 'created', price: 1 };
    await cache.invalidate(key);
    expect(await cache.getOrLoad(key, loader)).toEqual({ value: row, status: 'miss' });
    expect(calls).toBe(2);
  });

  it('treats garbage, a wrong format version, a truncated value and a wrong shape as misses and replaces them', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const good: Product = { id: '5', name: 'five', price: 5 };
    const now = Date.now();
    const valid = encodeEnvelope({
      storedAt: now,
      freshUntil: now + 60_000,
      staleUntil: now + 120_000,
      data: good,
    });
    const poisons: Buffer[] = [
      randomBytes(64),
      withFormatVersion(valid, FORMAT_VERSION + 1),
      valid.subarray(0, valid.length - 7),
      encodeEnvelope({
        storedAt: now,
        freshUntil: now + 60_000,
        staleUntil: now + 120_000,
        data: { id: 5, nope: true },
      }),
    ];
    for (const poison of poisons) {
      const key = freshKey('corrupt');
      await cluster.set(key, poison, 60);
      let calls = 0;
      const loader = async () => {
        calls += 1;
        return good;
      };
      expect(await cache.getOrLoad(key, loader, { validate: isProduct })).toEqual({
        value: good,
        status: 'miss',
      });
      await cache.drain();
      expect(await cache.getOrLoad(key, loader, { validate: isProduct })).toEqual({
        value: good,
        status: 'hit',
      });
      expect(calls).toBe(1);
    }
  });

  it('makes waiters on a lease that is never filled load themselves after leaseWaitMs, without writing', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster, lease: { leaseWaitMs: 50 } });
    const key = freshKey('abandoned-lease');
    await cluster.add(key, encodeLease('someone-who-died'), 5);
    let calls = 0;
    const result = await cache.getOrLoad(key, async () => {
      calls += 1;
      return 'loaded';
    });
    expect(result).toEqual({ value: 'loaded', status: 'miss' });
    expect(calls).toBe(1);
    await cache.drain();
    const item = await cluster.get(key);
    expect(item?.value.equals(encodeLease('someone-who-died'))).toBe(true);
  });

  it('releases its lease when the loader fails, so the next request loads at once', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const key = freshKey('failed-load');
    await expect(
      cache.getOrLoad(key, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await cache.drain();
    expect(await cluster.get(key)).toBeNull();
  });

  it('goes to the loader with status bypass when memcached is unreachable', async () => {
    const dead = new CacheCluster({ servers: ['127.0.0.1:1'], opTimeoutMs: 50, connectTimeoutMs: 50 });
    clusters.push(dead);
    const registry = new Registry();
    const cache = new Cache({ cluster: dead, metrics: createPromCacheMetrics(registry) });
    for (let i = 0; i < 5; i += 1) {
      const result = await cache.getOrLoad(freshKey('bypass'), async () => 'from-db', {
        entity: 'product',
      });
      expect(result).toEqual({ value: 'from-db', status: 'bypass' });
    }
    await cache.drain();
    const metric = await registry.getSingleMetric('cache_requests_total')?.get();
    const total = (metric?.values ?? [])
      .filter((v) => v.labels.result === 'error' || v.labels.result === 'bypass')
      .reduce((sum, v) => sum + v.value, 0);
    expect(total).toBe(5);
  });

  it('names its metrics and diagnostics channels with the prefixes it is given', async () => {
    const registry = new Registry();
    const channels = cacheChannelNames('shop:cache');
    const seen: unknown[] = [];
    const onGet = (message: unknown) => seen.push(message);
    diagnosticsChannel.subscribe(channels.get, onGet);
    try {
      const cache = new Cache({
        cluster: newCluster(),
        metrics: createPromCacheMetrics(registry, { prefix: 'shop_' }),
        diagnosticsChannelPrefix: 'shop:cache',
      });
      const key = freshKey('prefixed');
      await cache.getOrLoad(key, async () => 'x', { entity: 'product' });
      await cache.drain();
      expect(channels.get).toBe('shop:cache:get');
      expect(seen).toEqual([{ key, namespace: 'product', status: 'miss' }]);
      const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
      expect(names).toEqual(CACHE_METRIC_NAMES.map((n) => `shop_${n}`).sort());
    } finally {
      diagnosticsChannel.unsubscribe(channels.get, onGet);
    }
  });

  it('moves the request counters by exactly one miss and one hit', async () => {
    const registry = new Registry();
    const cache = new Cache({ cluster: newCluster(), metrics: createPromCacheMetrics(registry) });
    const key = freshKey('metrics');
    await cache.getOrLoad(key, async () => 'x', { entity: 'product' });
    await cache.drain();
    await cache.getOrLoad(key, async () => 'x', { entity: 'product' });
    const values = (await registry.getSingleMetric('cache_requests_total')?.get())?.values ?? [];
    const by = (result: string) =>
      values.find((v) => v.labels.result === result && v.labels.namespace === 'product')?.value ?? 0;
    expect([by('miss'), by('hit'), by('stale'), by('error'), by('bypass')]).toEqual([1, 1, 0, 0, 0]);
    const loads = (await registry.getSingleMetric('cache_loader_calls_total')?.get())?.values ?? [];
    expect(loads.find((v) => v.labels.namespace === 'product')?.value).toBe(1);
    const populates = (await registry.getSingleMetric('cache_populate_total')?.get())?.values ?? [];
    expect(populates.find((v) => v.labels.result === 'stored')?.value).toBe(1);
  });

  it('drops background writes beyond the populate queue bound and counts them', async () => {
    const registry = new Registry();
    const cache = new Cache({
      cluster: newCluster(),
      metrics: createPromCacheMetrics(registry),
      populate: { maxQueue: 2, concurrency: 1 },
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => cache.getOrLoad(freshKey(`q${i}`), async () => i)),
    );
    await cache.drain();
    const values = (await registry.getSingleMetric('cache_populate_total')?.get())?.values ?? [];
    const by = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
    expect(by('stored') + by('dropped')).toBe(20);
    expect(by('dropped')).toBeGreaterThan(0);
  });
});

describe('Cache batch, write-through, namespaces, counters', () => {
  it('getManyOrLoad makes one loader call for every missing key, then hits', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const keys = Array.from({ length: 30 }, (_, i) => freshKey(`many${i}`));
    const calls: string[][] = [];
    const loader = async (missing: string[]) => {
      calls.push(missing);
      return new Map(missing.filter((k) => !k.includes('many7:')).map((k) => [k, { key: k }]));
    };
    const first = await cache.getManyOrLoad(keys, loader);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(30);
    expect([...first.values()].every((r) => r.status === 'miss')).toBe(true);
    expect(first.get(keys[7] as string)?.value).toBeNull();
    await cache.drain();
    const second = await cache.getManyOrLoad(keys, loader);
    expect(calls).toHaveLength(1);
    expect([...second.values()].every((r) => r.status === 'hit')).toBe(true);
    expect(second.get(keys[7] as string)).toEqual({ value: null, status: 'hit' });
    expect(second.get(keys[3] as string)?.value).toEqual({ key: keys[3] });
  });

  it('getManyOrLoad writes a batch as one populate job: one pipelined write per node for 50 keys', async () => {
    const registry = new Registry();
    const cluster = newCluster();
    const cache = new Cache({ cluster, metrics: createPromCacheMetrics(registry) });
    const keys = Array.from({ length: 50 }, (_, i) => freshKey(`batch${i}`));
    const nodes = new Set(keys.map((key) => cluster.nodeFor(key))).size;
    const writes = () => cluster.status().reduce((sum, node) => sum + node.writes, 0);
    const loader = async (missing: string[]) => new Map(missing.map((k) => [k, { key: k }]));

    const before = writes();
    await cache.getManyOrLoad(keys, loader);
    await cache.drain();
    // one getMany round per node, one lease add per key, one populate round per node
    expect(writes() - before).toBe(nodes + keys.length + nodes);
    const values = (await registry.getSingleMetric('cache_populate_total')?.get())?.values ?? [];
    expect(values.filter((v) => v.value > 0).map((v) => [v.labels.result, v.value])).toEqual([
      ['stored', 50],
    ]);
    const again = await cache.getManyOrLoad(keys, loader);
    expect([...again.values()].every((r) => r.status === 'hit')).toBe(true);
  });

  it('getManyOrLoad batch populates keep the lease rule: keys invalidated during the load are not written', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const keys = Array.from({ length: 20 }, (_, i) => freshKey(`batch-lease${i}`));
    const loadGate = gate();
    const loaderCalled = gate();
    const loading = cache.getManyOrLoad(keys, async (missing) => {
      loaderCalled.open();
      await loadGate.promise;
      return new Map(missing.map((k) => [k, { key: k, old: true }]));
    });
    // The placeholders are in once the loader runs; then a writer purges half of the keys.
    await loaderCalled.promise;
    await cache.invalidate(keys.slice(0, 10));
    loadGate.open();
    await loading;
    await cache.drain();
    const cluster = newCluster();
    for (const [i, key] of keys.entries()) {
      if (i < 10) expect(await cluster.get(key)).toBeNull();
      else expect(await cluster.get(key)).not.toBeNull();
    }
  });

  it('getManyOrLoad serves stale keys when the loader fails, and throws when a key has no fallback', async () => {
    let now = Date.now();
    const cache = new Cache({
      cluster: newCluster(),
      clock: () => now,
      defaults: { ttlSeconds: 10, staleSeconds: 0, graceSeconds: 100, jitterRatio: 0 },
    });
    const [k1, k2] = [freshKey('batch-grace-1'), freshKey('batch-grace-2')];
    await cache.getManyOrLoad([k1, k2], async (keys) => new Map(keys.map((k) => [k, `cached-${k}`])));
    await cache.drain();
    now += 20_000;
    const down = async (): Promise<Map<string, string>> => {
      throw new Error('database down');
    };
    const served = await cache.getManyOrLoad([k1, k2], down);
    expect([...served.values()]).toEqual([
      { value: `cached-${k1}`, status: 'stale' },
      { value: `cached-${k2}`, status: 'stale' },
    ]);
    await expect(cache.getManyOrLoad([k1, freshKey('batch-grace-none')], down)).rejects.toThrow(
      'database down',
    );
    await cache.drain();
  });

  it('writeThrough keeps the newer version when writers race', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const other = new Cache({ cluster: newCluster() });
    const key = freshKey('write-through');
    await Promise.all(
      Array.from({ length: 20 }, (_, v) => (v % 2 ? cache : other).writeThrough(key, { v }, { version: v })),
    );
    // The newest version wins, or (a writer that kept losing CAS races gives up) the key is
    // deleted and the next read loads from the source: never an older version.
    const versionOf = (value: { v: number }) => value.v;
    expect((await cache.getOrLoad(key, async () => ({ v: 19 }), { versionOf })).value).toEqual({ v: 19 });
    await cache.drain();
    await cache.writeThrough(key, { v: 5 }, { version: 5 });
    expect((await cache.getOrLoad(key, async () => ({ v: -1 }))).value).toEqual({ v: 19 });
    await cache.writeThrough(key, { v: 20 }, { version: 20 });
    expect(await cache.getOrLoad(key, async () => ({ v: -1 }))).toEqual({ value: { v: 20 }, status: 'hit' });
  });

  it('writeThrough never overwrites an item it cannot read: it deletes it, then treats the key as absent', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const foreign = Buffer.from('{"v":1,"version":99,"data":{"v":99}}');
    // What code of another format version wrote: unreadable here, its version unknown.
    const replaced = freshKey('write-through-foreign');
    await cluster.set(replaced, foreign, 60);
    await cache.writeThrough(replaced, { v: 5 }, { version: 5, replaceOnly: true });
    expect(await cluster.get(replaced)).toBeNull();
    // A writer that may fill an absent key (an event consumer that just read the row) does.
    const filled = freshKey('write-through-foreign-fill');
    await cluster.set(filled, foreign, 60);
    await cache.writeThrough(filled, { v: 5 }, { version: 5 });
    expect(await cache.cachedVersion(filled)).toBe(5);
  });

  it('a populated entry keeps its version, so a delayed older writeThrough cannot replace it', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('versioned-populate');
    const versionOf = (value: { v: number }) => value.v;
    expect((await cache.getOrLoad(key, async () => ({ v: 7 }), { versionOf })).status).toBe('miss');
    await cache.drain();
    await cache.writeThrough(key, { v: 6 }, { version: 6 });
    expect(await cache.getOrLoad(key, async () => ({ v: -1 }), { versionOf })).toEqual({
      value: { v: 7 },
      status: 'hit',
    });
  });

  it('writeThrough with replaceOnly replaces an older entry, fills no absent key and deletes a lease', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('replace-only');
    // Absent (memcached may have evicted a newer version): nothing is written.
    await cache.writeThrough(key, { v: 6 }, { version: 6, replaceOnly: true });
    expect(await cache.peek(key)).toBeUndefined();
    await cache.writeThrough(key, { v: 7 }, { version: 7 });
    await cache.writeThrough(key, { v: 8 }, { version: 8, replaceOnly: true });
    expect(await cache.cachedVersion(key)).toBe(8);

    // A running load's lease is deleted, not replaced: its populate loses, the next read loads.
    const leased = freshKey('replace-only-lease');
    const started = gate();
    const release = gate();
    const reader = cache.getOrLoad(leased, async () => {
      started.open();
      await release.promise;
      return 'loaded before';
    });
    await started.promise;
    await cache.writeThrough(leased, 'late', { version: 1, replaceOnly: true });
    release.open();
    await reader;
    await cache.drain();
    expect(await cache.getOrLoad(leased, async () => 'loaded after')).toEqual({
      value: 'loaded after',
      status: 'miss',
    });
    await cache.drain();
  });

  it('cachedVersion reads the recorded version with one get, and knows nothing about a negative entry', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('cached-version');
    expect(await cache.cachedVersion(key)).toBeUndefined();
    await cache.writeThrough(key, { v: 3 }, { version: 3 });
    expect(await cache.cachedVersion(key)).toBe(3);
    const missing = freshKey('cached-version-null');
    await cache.getOrLoad(missing, async () => null);
    await cache.drain();
    expect(await cache.cachedVersion(missing)).toBeUndefined();
  });

  it('writeThrough revokes a running load (its populate loses the CAS)', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('write-through-lease');
    const started = gate();
    const release = gate();
    const reader = cache.getOrLoad(key, async () => {
      started.open();
      await release.promise;
      return 'old';
    });
    await started.promise;
    await cache.writeThrough(key, 'new', { version: 2 });
    release.open();
    await reader;
    await cache.drain();
    expect((await cache.getOrLoad(key, async () => 'loader')).value).toBe('new');
  });

  it('namespace versions only grow, and a bump changes the version', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const ns = `category:${randomBytes(4).toString('hex')}`;
    const v1 = await cache.keyGeneration(ns);
    expect(await cache.keyGeneration(ns)).toBe(v1);
    await cache.bumpKeyGeneration(ns);
    const v2 = await cache.keyGeneration(ns);
    expect(v2).toBeGreaterThan(v1);
    expect(v1).toBeGreaterThan(0);
  });

  it('incr counts and returns null when the cache is unavailable', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('counter');
    expect(await cache.incr(key, 3)).toBe(3n);
    expect(await cache.incr(key, 4)).toBe(7n);
    const dead = new CacheCluster({ servers: ['127.0.0.1:1'], opTimeoutMs: 50, connectTimeoutMs: 50 });
    clusters.push(dead);
    expect(await new Cache({ cluster: dead }).incr(key, 1)).toBeNull();
  });
});

describe('the missed-events (gap) rule', () => {
  class FakeFeed implements InvalidationFeedStatus {
    connected = true;
    disconnectedSince: number | null = null;
    readonly #listeners = new Set<(c: boolean) => void>();
    onConnectionChange(listener: (c: boolean) => void) {
      this.#listeners.add(listener);
      return () => this.#listeners.delete(listener);
    }
    set(connected: boolean, at: number) {
      this.connected = connected;
      this.disconnectedSince = connected ? null : at;
      for (const l of this.#listeners) l(connected);
    }
  }

  it('reloads event-fed entries stored before a disconnect, caps TTLs during it, and bumps namespaces on reconnect', async () => {
    let now = Date.now();
    const feed = new FakeFeed();
    const cache = new Cache({
      cluster: newCluster(),
      clock: () => now,
      gapTtlSeconds: 5,
      defaults: { jitterRatio: 0 },
    });
    cache.trackInvalidationFeed(feed, ['product']);
    const key = freshKey('gap');
    const plain = freshKey('gap-plain');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return `v${calls}`;
    };
    await cache.getOrLoad(key, loader, { entity: 'product' });
    await cache.getOrLoad(plain, async () => 'plain', { entity: 'other' });
    await cache.drain();
    expect((await cache.getOrLoad(key, loader, { entity: 'product' })).status).toBe('hit');

    now += 1000;
    feed.set(false, now);
    now += 1000;
    // Stored before the disconnect: reloaded (it may have missed its purge).
    expect(await cache.getOrLoad(key, loader, { entity: 'product' })).toEqual({
      value: 'v2',
      status: 'miss',
    });
    // Namespaces that are not event-fed are unaffected.
    expect((await cache.getOrLoad(plain, async () => 'x', { entity: 'other' })).status).toBe('hit');
    await cache.drain();
    // Written during the gap: trusted, but only for gapTtlSeconds.
    expect(await cache.getOrLoad(key, loader, { entity: 'product' })).toEqual({
      value: 'v2',
      status: 'hit',
    });
    now += 6000;
    expect(await cache.getOrLoad(key, loader, { entity: 'product' })).toEqual({
      value: 'v3',
      status: 'miss',
    });
    await cache.drain();

    const before = await cache.keyGeneration('product');
    feed.set(true, now);
    await cache.drain();
    expect(await cache.keyGeneration('product')).toBeGreaterThan(before);
    expect(calls).toBe(3);
  });
});

describe('Cache with a failing store', () => {
  it('never lets a cache error reach the caller, whatever operation fails', async () => {
    const failing: CacheStore = {
      get: async () => {
        throw new Error('get failed');
      },
      getMany: async () => {
        throw new Error('getMany failed');
      },
      set: async () => {
        throw new Error('set failed');
      },
      add: async () => {
        throw new Error('add failed');
      },
      delete: async () => {
        throw new Error('delete failed');
      },
      incr: async () => {
        throw new Error('incr failed');
      },
    };
    const cache = new Cache({ cluster: failing });
    expect(await cache.getOrLoad('k', async () => 1)).toEqual({ value: 1, status: 'bypass' });
    const many = await cache.getManyOrLoad(['a', 'b'], async (keys) => new Map(keys.map((k) => [k, k])));
    expect([...many.values()]).toEqual([
      { value: 'a', status: 'bypass' },
      { value: 'b', status: 'bypass' },
    ]);
    await expect(cache.invalidate(['a', 'b'])).resolves.toBeUndefined();
    await expect(cache.writeThrough('a', 1, { version: 1 })).resolves.toBeUndefined();
    await expect(cache.bumpKeyGeneration('n')).resolves.toBeUndefined();
    expect(await cache.keyGeneration('n')).toBeLessThan(0);
    expect(await cache.incr('c', 1)).toBeNull();
    await cache.close();
  });
});
