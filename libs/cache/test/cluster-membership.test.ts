import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import { KetamaRing } from '../src/hash-ring.js';
import { keySpace } from '../src/keys.js';
import { NearCache } from '../src/near-cache.js';

const items = keySpace({ prefix: 'test', entity: 'membership', schemaVersion: 1 });
let run = 0;
const freshKeys = (count: number): string[] => {
  run += 1;
  return Array.from({ length: count }, (_, i) => items.key(`${run}-${i}`));
};

/** Which of `keys` the cluster still finds. */
async function present(cluster: CacheCluster, keys: string[]): Promise<Set<string>> {
  const { found, failed } = await cluster.getMany(keys);
  expect(failed.size).toBe(0);
  return new Set(found.keys());
}

describe('CacheCluster.setNodes on 4 real memcached nodes', () => {
  let memcached: MemcachedCluster;
  let first3: string[];
  let fourth: string;
  const clusters: CacheCluster[] = [];
  const newCluster = (servers: string[]) => {
    // Op timeouts are not under test; a starved box must not eject a healthy node.
    const cluster = new CacheCluster({ servers, opTimeoutMs: 5_000 });
    clusters.push(cluster);
    return cluster;
  };

  beforeAll(async () => {
    memcached = await startMemcachedCluster(4);
    first3 = memcached.servers.slice(0, 3);
    fourth = memcached.servers[3] as string;
  });

  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
    await memcached?.stop();
  });

  it('adding a node moves exactly the keys the new ring gives it, and they miss until written', async () => {
    const cluster = newCluster(first3);
    const keys = freshKeys(400);
    await cluster.setMany(keys.map((key) => ({ key, value: Buffer.from(key), ttlSeconds: 60 })));
    const after = new KetamaRing([...first3, fourth]);
    const moved = keys.filter((key) => after.nodeFor(key) !== cluster.nodeFor(key));

    expect(cluster.setNodes([...first3, fourth])).toEqual({ added: [fourth], removed: [] });

    expect(cluster.servers).toEqual([...first3, fourth]);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((key) => cluster.nodeFor(key) === fourth)).toBe(true);
    const found = await present(cluster, keys);
    expect(keys.filter((key) => !found.has(key))).toEqual(moved);
    // A write of a moved key lands on the new node: a client of that node alone reads it.
    await cluster.set(moved[0] as string, Buffer.from('again'), 60);
    const onlyFourth = newCluster([fourth]);
    expect((await onlyFourth.get(moved[0] as string))?.value.toString()).toBe('again');
    expect(cluster.status().map((node) => node.server)).toEqual([...first3, fourth]);
  });

  it('removing a node sends its keys to the survivors (misses there) and keeps every other key', async () => {
    const cluster = newCluster([...first3, fourth]);
    const keys = freshKeys(400);
    await cluster.setMany(keys.map((key) => ({ key, value: Buffer.from(key), ttlSeconds: 60 })));
    const removedKeys = keys.filter((key) => cluster.nodeFor(key) === fourth);

    expect(cluster.setNodes(first3)).toEqual({ added: [], removed: [fourth] });

    expect(removedKeys.length).toBeGreaterThan(0);
    const found = await present(cluster, keys);
    expect(keys.filter((key) => !found.has(key))).toEqual(removedKeys);
    expect(keys.every((key) => cluster.nodeFor(key) !== fourth)).toBe(true);
    expect(cluster.status().map((node) => node.server)).toEqual(first3);
  });

  it('lets an operation already sent to a removed node finish', async () => {
    const cluster = newCluster([...first3, fourth]);
    const key = freshKeys(200).find((k) => cluster.nodeFor(k) === fourth) as string;
    await cluster.set(key, Buffer.from('in flight'), 60);
    const reading = cluster.get(key);
    cluster.setNodes(first3);
    expect((await reading)?.value.toString()).toBe('in flight');
    expect(await cluster.get(key)).toBeNull();
  });

  it('a node removed and added back starts from what memcached still holds', async () => {
    const cluster = newCluster([...first3, fourth]);
    const key = freshKeys(200).find((k) => cluster.nodeFor(k) === fourth) as string;
    await cluster.set(key, Buffer.from('kept'), 60);
    cluster.setNodes(first3);
    expect(cluster.setNodes([...first3, fourth])).toEqual({ added: [fourth], removed: [] });
    expect((await cluster.get(key))?.value.toString()).toBe('kept');
  });

  describe('a Cache over a changing ring', () => {
    // One clock for the cluster (when a change happened) and the Cache (when an entry was
    // stored), stepped by the test so "stored before the change" never rests on a millisecond.
    let now: number;
    const clock = () => now;
    const step = () => (now += 1_000);
    const movedKeys = (from: string[], to: string[], count: number): string[] => {
      const a = new KetamaRing(from);
      const b = new KetamaRing(to);
      const found = freshKeys(400)
        .filter((key) => a.nodeFor(key) !== b.nodeFor(key))
        .slice(0, count);
      expect(found).toHaveLength(count);
      return found;
    };
    /** A source of truth that counts its reads. */
    const source = (initial: Record<string, string>) => {
      const rows = new Map(Object.entries(initial));
      const loads: string[] = [];
      return {
        rows,
        loads,
        one: (key: string) => async () => {
          loads.push(key);
          return rows.get(key) ?? null;
        },
        many: async (missing: string[]) => {
          loads.push(...missing);
          return new Map(missing.map((key) => [key, rows.get(key) ?? null]));
        },
      };
    };

    beforeEach(() => {
      now = Date.now();
    });

    it('does not serve a copy a shrunk ring sends a key back to (get, getMany, json)', async () => {
      const grown = [...first3, fourth];
      const cluster = new CacheCluster({ servers: first3, opTimeoutMs: 5_000, clock });
      clusters.push(cluster);
      const cache = new Cache({ cluster, clock });
      const [single, batched, json] = movedKeys(first3, grown, 3) as [string, string, string];
      const db = source({ [single]: 'v1', [batched]: 'v1', [json]: 'v1' });
      await cache.getOrLoad(single, db.one(single));
      await cache.getManyOrLoad([batched], db.many);
      await cache.getOrLoadJson(json, db.one(json));
      await cache.drain();
      step();

      cluster.setNodes(grown);
      step();
      for (const key of [single, batched, json]) {
        db.rows.set(key, 'v2');
        await cache.writeThrough(key, 'v2', { version: 2, confirm: true });
      }
      expect(cluster.nodeFor(single)).toBe(fourth);
      // Written after the change: trusted.
      expect(await cache.getOrLoad(single, db.one(single))).toEqual({ value: 'v2', status: 'hit' });
      step();

      cluster.setNodes(first3);
      step();
      // The old owner still holds v1, which never saw the write.
      expect((await cache.peek(single))?.value).toBe('v1');
      db.loads.length = 0;
      expect(await cache.getOrLoad(single, db.one(single))).toEqual({ value: 'v2', status: 'miss' });
      expect((await cache.getManyOrLoad([batched], db.many)).get(batched)).toEqual({
        value: 'v2',
        status: 'miss',
      });
      const raw = await cache.getOrLoadJson(json, db.one(json));
      expect([raw.json?.toString(), raw.status]).toEqual(['"v2"', 'miss']);
      expect(db.loads.sort()).toEqual([single, batched, json].sort());
      await cache.drain();
      // Reloaded once: the entries written now are trusted again.
      expect(await cache.getOrLoad(single, db.one(single))).toEqual({ value: 'v2', status: 'hit' });
      expect(db.loads).toHaveLength(3);
      await cache.close();
    });

    it('keeps the hits of keys the changes did not move', async () => {
      const grown = [...first3, fourth];
      const cluster = new CacheCluster({ servers: first3, opTimeoutMs: 5_000, clock });
      clusters.push(cluster);
      const cache = new Cache({ cluster, clock });
      const stay = new KetamaRing(grown);
      const key = freshKeys(50).find((k) => stay.nodeFor(k) === cluster.nodeFor(k)) as string;
      const db = source({ [key]: 'v1' });
      await cache.getOrLoad(key, db.one(key));
      await cache.drain();
      step();
      cluster.setNodes(grown);
      step();
      cluster.setNodes(first3);
      step();

      expect(cluster.ownerChangedAt(key)).toBeUndefined();
      expect(await cache.getOrLoad(key, db.one(key))).toEqual({ value: 'v1', status: 'hit' });
      expect(db.loads).toEqual([key]);
      await cache.close();
    });

    it("does not trust a re-added node's old entry, and serves it only if the reload fails", async () => {
      const grown = [...first3, fourth];
      const cluster = new CacheCluster({ servers: grown, opTimeoutMs: 5_000, clock });
      clusters.push(cluster);
      // Through a NearCache too: it passes the ring's changes on.
      const store = new NearCache({ store: cluster, keyPrefixes: ['test:'] });
      const cache = new Cache({ cluster: store, clock });
      const [key] = movedKeys(grown, first3, 1) as [string];
      const db = source({ [key]: 'v1' });
      await cache.getOrLoad(key, db.one(key));
      await cache.drain();
      step();
      cluster.setNodes(first3);
      step();
      db.rows.set(key, 'v2');
      await cache.writeThrough(key, 'v2', { version: 2, confirm: true });
      step();

      cluster.setNodes(grown);
      step();
      expect(store.ownerChangedAt(key)).toBe(cluster.ownerChangedAt(key));
      expect((await cache.peek(key))?.value).toBe('v1');
      const failing = (): Promise<string> => Promise.reject(new Error('database down'));
      expect(await cache.getOrLoad(key, failing)).toEqual({ value: 'v1', status: 'stale' });
      expect(await cache.getOrLoad(key, db.one(key))).toEqual({ value: 'v2', status: 'miss' });
      await cache.close();
    });
  });

  it('rejects an empty list, duplicates and gutter servers, and leaves the ring as it was', () => {
    const cluster = new CacheCluster({ servers: first3, gutterServers: [fourth] });
    clusters.push(cluster);
    expect(() => cluster.setNodes([])).toThrow(TypeError);
    expect(() => cluster.setNodes([first3[0] as string, first3[0] as string])).toThrow(TypeError);
    expect(() => cluster.setNodes([...first3, fourth])).toThrow(/gutter/);
    expect(cluster.servers).toEqual(first3);
  });
});
