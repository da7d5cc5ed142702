import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import { DownstreamCopies, parseKeySpace } from '../src/downstream-copies.js';
import { keySpace } from '../src/keys.js';

jest.setTimeout(60_000);

describe('parseKeySpace', () => {
  it('reads the name keySpace prints, and builds the same keys', () => {
    const parsed = parseKeySpace(' order:product:v1 ');
    const built = keySpace({ prefix: 'order', entity: 'product', schemaVersion: 1 });
    expect(parsed.prefix).toBe('order:product:v1:');
    expect(parsed.key('42')).toBe(built.key('42'));
    expect(parsed.key('a b:c')).toBe(built.key('a b:c'));
    expect(parseKeySpace('svc-2:thing.x:v2026_1').prefix).toBe('svc-2:thing.x:v2026_1:');
  });

  it.each([
    '',
    'order',
    'order:product',
    'order:product:1',
    'order:product:v1:',
    'a:b:c:v1',
    'ord er:product:v1',
  ])('rejects %p', (name) => {
    expect(() => parseKeySpace(name)).toThrow(TypeError);
  });
});

describe('DownstreamCopies against real memcached', () => {
  let memcached: MemcachedCluster;
  let cluster: CacheCluster;
  let cache: Cache;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(2);
    cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: 5_000 });
    cache = new Cache({ cluster });
  });

  afterAll(async () => {
    await cache?.close();
    await cluster?.close();
    await memcached?.stop();
  });

  const spaces = [
    keySpace({ prefix: `copies${process.pid}`, entity: 'product', schemaVersion: 1 }),
    keySpace({ prefix: `copies${process.pid}`, entity: 'product-summary', schemaVersion: 3 }),
  ];
  const plant = async (key: string) => expect(await cluster.set(key, Buffer.from('copy'), 300)).toBe(true);

  it('deletes the copies of the ids given, in every key space, and no others', async () => {
    const copies = new DownstreamCopies(cache, spaces);
    const keys = copies.keysOf([1, 2, 3]);
    expect(keys).toHaveLength(6);
    for (const key of keys) await plant(key);
    await copies.purge([1, '3']);
    const left = await Promise.all(keys.map(async (key) => (await cluster.get(key)) !== null));
    // keysOf lists each id's key in every space: 1 (two spaces), 2, 3.
    expect(left).toEqual([false, false, true, true, false, false]);
  });

  it('with no key spaces, purges nothing and sends nothing', async () => {
    const copies = new DownstreamCopies(cache, []);
    expect(copies.keysOf([1])).toEqual([]);
    await expect(copies.purge([1])).resolves.toBeUndefined();
  });

  it("resolves when a copy's node does not answer, so the write that asked is not failed", async () => {
    const lone = await startMemcachedCluster(1);
    const deadCluster = new CacheCluster({ servers: lone.servers, opTimeoutMs: 500 });
    const deadCache = new Cache({ cluster: deadCluster });
    try {
      await lone.stop();
      await expect(new DownstreamCopies(deadCache, spaces).purge([1, 2])).resolves.toBeUndefined();
    } finally {
      await deadCache.close();
      await deadCluster.close();
    }
  });
});
