import { randomBytes } from 'node:crypto';
import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import type { CacheStore } from '../src/cache-options.js';
import { CacheCluster } from '../src/cluster.js';
import { decodeEnvelope, encodeEnvelope } from '../src/codec.js';

jest.setTimeout(60_000);

interface Product {
  id: number;
  name: string;
  price: number;
}

const isProduct = (v: unknown): v is Product =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Product).id === 'number' &&
  typeof (v as Product).name === 'string' &&
  typeof (v as Product).price === 'number';

let memcached: MemcachedCluster;
const clusters: CacheCluster[] = [];

function newCluster(): CacheCluster {
  const cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: 5_000 });
  clusters.push(cluster);
  return cluster;
}

function freshKey(label: string): string {
  return `test:json:${label}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const jsonOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

beforeAll(async () => {
  memcached = await startMemcachedCluster(2);
});

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  await memcached?.stop();
});

describe('getOrLoadJson', () => {
  const product: Product = { id: 7, name: 'seven é', price: 7.5 };

  it('loads on a miss, then serves the stored bytes, equal to what getOrLoad decodes', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('hit');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return product;
    };
    const miss = await cache.getOrLoadJson(key, loader, { validate: isProduct });
    expect(miss.status).toBe('miss');
    expect(miss.json?.equals(jsonOf(product))).toBe(true);
    await cache.drain();
    const hit = await cache.getOrLoadJson(key, loader, { validate: isProduct });
    expect(hit.status).toBe('hit');
    expect(hit.json?.equals(jsonOf(product))).toBe(true);
    const decoded = await cache.getOrLoad(key, loader, { validate: isProduct });
    expect(decoded).toEqual({ value: product, status: 'hit' });
    expect(calls).toBe(1);
  });

  it('caches "not found" and answers it as null', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('negative');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return null;
    };
    expect(await cache.getOrLoadJson(key, loader)).toEqual({ json: null, status: 'miss' });
    await cache.drain();
    expect(await cache.getOrLoadJson(key, loader)).toEqual({ json: null, status: 'hit' });
    expect(calls).toBe(1);
  });

  it('serves a soft-expired entry stale and refreshes it once in the background', async () => {
    let now = Date.now();
    const cache = new Cache({
      cluster: newCluster(),
      clock: () => now,
      defaults: { ttlSeconds: 10, staleSeconds: 60, jitterRatio: 0 },
    });
    const key = freshKey('stale');
    await cache.getOrLoadJson(key, async () => ({ ...product, name: 'v1' }));
    await cache.drain();
    now += 11_000;
    let refreshes = 0;
    const refresh = async () => {
      refreshes += 1;
      return { ...product, name: 'v2' };
    };
    const served = await Promise.all(Array.from({ length: 5 }, () => cache.getOrLoadJson(key, refresh)));
    expect(
      served.every((r) => r.status === 'stale' && r.json?.equals(jsonOf({ ...product, name: 'v1' }))),
    ).toBe(true);
    await cache.drain();
    expect(refreshes).toBe(1);
    const after = await cache.getOrLoadJson(key, refresh);
    expect(after.status).toBe('hit');
    expect(after.json?.equals(jsonOf({ ...product, name: 'v2' }))).toBe(true);
  });

  it("waits for another process's lease and serves the bytes it wrote", async () => {
    const holderCluster = newCluster();
    const waiterCluster = newCluster();
    let waiterReads = 0;
    const waiterStore: CacheStore = {
      get: (key) => {
        waiterReads += 1;
        return waiterCluster.get(key);
      },
      getMany: (keys) => waiterCluster.getMany(keys),
      set: (key, value, ttl, opts) => waiterCluster.set(key, value, ttl, opts),
      add: (key, value, ttl, opts) => waiterCluster.add(key, value, ttl, opts),
      delete: (key) => waiterCluster.delete(key),
      incr: (key, delta, opts) => waiterCluster.incr(key, delta, opts),
    };
    const holder = new Cache({ cluster: holderCluster });
    const waiter = new Cache({ cluster: waiterStore });
    const key = freshKey('lease');
    const started = gate();
    const release = gate();
    let calls = 0;
    const loader = async () => {
      calls += 1;
      started.open();
      await release.promise;
      return product;
    };
    const held = holder.getOrLoad(key, loader);
    await started.promise;
    const waiting = waiter.getOrLoadJson(key, loader);
    // Polled at least twice: it is waiting on the lease, not loading.
    await until(() => waiterReads >= 3);
    release.open();
    await held;
    const result = await waiting;
    expect(calls).toBe(1);
    expect(result.status).toBe('hit');
    expect(result.json?.equals(jsonOf(product))).toBe(true);
    await Promise.all([holder.drain(), waiter.drain()]);
  });

  it('shares one read among concurrent raw callers, apart from decoded callers', async () => {
    const cache = new Cache({ cluster: newCluster() });
    const key = freshKey('flights');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return product;
    };
    const [raw, decoded] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => cache.getOrLoadJson(key, loader))),
      Promise.all(Array.from({ length: 10 }, () => cache.getOrLoad(key, loader))),
    ]);
    expect(raw.every((r) => r.json?.equals(jsonOf(product)))).toBe(true);
    expect(decoded.every((r) => r.value !== null && isProduct(r.value))).toBe(true);
    expect(calls).toBeLessThanOrEqual(2);
    await cache.drain();
  });

  it('treats a checksummed entry of the wrong shape as corrupt on its first read, and replaces it', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const key = freshKey('shape');
    const now = Date.now();
    const poison = encodeEnvelope({
      storedAt: now,
      freshUntil: now + 60_000,
      staleUntil: now + 120_000,
      data: { id: 'x', name: 42 },
    });
    await cluster.set(key, poison, 60);
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return product;
    };
    const first = await cache.getOrLoadJson(key, loader, { validate: isProduct });
    expect(first.status).toBe('miss');
    expect(first.json?.equals(jsonOf(product))).toBe(true);
    await cache.drain();
    const stored = await cluster.get(key);
    const decoded = decodeEnvelope(stored!.value);
    expect(decoded.ok && decoded.envelope.data).toEqual(product);

    // The same poison written again (a new CAS) is validated again, not trusted from before.
    await cluster.set(key, poison, 60);
    const again = await cache.getOrLoadJson(key, loader, { validate: isProduct });
    expect(again.status).toBe('miss');
    expect(calls).toBe(2);
    await cache.drain();
  });

  it('treats a damaged entry as a miss', async () => {
    const cluster = newCluster();
    const cache = new Cache({ cluster });
    const key = freshKey('damaged');
    await cache.getOrLoadJson(key, async () => product);
    await cache.drain();
    const stored = (await cluster.get(key))!.value;
    const flipped = Buffer.from(stored);
    flipped[flipped.length - 2] = (flipped[flipped.length - 2] as number) ^ 1;
    await cluster.set(key, flipped, 60);
    let calls = 0;
    const result = await cache.getOrLoadJson(key, async () => {
      calls += 1;
      return product;
    });
    expect(result.status).toBe('miss');
    expect(calls).toBe(1);
    await cache.drain();
  });
});
