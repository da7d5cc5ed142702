import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import { DownstreamCopies } from '../src/downstream-copies.js';
import { keySpace } from '../src/keys.js';

jest.setTimeout(60_000);

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

const copies = keySpace({ prefix: `copies${process.pid}`, entity: 'product', schemaVersion: 1 });
const summaries = keySpace({ prefix: `copies${process.pid}`, entity: 'product-summary', schemaVersion: 3 });
const plant = async (key: string) => expect(await cluster.set(key, Buffer.from('copy'), 300)).toBe(true);
const present = async (key: string) => (await cluster.get(key)) !== null;

describe('DownstreamCopies against real memcached', () => {
  it('deletes the copies of the ids given, in every key space, and no others', async () => {
    const keys = [1, 2, 3].flatMap((id) => [copies.key(id), summaries.key(id)]);
    for (const key of keys) await plant(key);
    await new DownstreamCopies(cache, [copies, summaries]).purge([1, '3']);
    expect(await Promise.all(keys.map(present))).toEqual([false, false, true, true, false, false]);
  });

  it('with no key spaces, or no ids, sends nothing', async () => {
    const invalidate = jest.fn(async () => undefined);
    await new DownstreamCopies({ invalidate }, []).purge([1]);
    await new DownstreamCopies({ invalidate }, [copies]).purge([]);
    expect(invalidate).not.toHaveBeenCalled();
  });

  it("resolves when a copy's node does not answer, so the write that asked is not failed", async () => {
    const lone = await startMemcachedCluster(1);
    const deadCluster = new CacheCluster({ servers: lone.servers, opTimeoutMs: 500 });
    const deadCache = new Cache({ cluster: deadCluster });
    try {
      await lone.stop();
      await expect(new DownstreamCopies(deadCache, [copies]).purge([1, 2])).resolves.toBeUndefined();
    } finally {
      await deadCache.close();
      await deadCluster.close();
    }
  });
});
