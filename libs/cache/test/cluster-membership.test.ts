import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { CacheCluster } from '../src/cluster.js';
import { KetamaRing } from '../src/hash-ring.js';
import { keySpace } from '../src/keys.js';

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

  it('rejects an empty list, duplicates and gutter servers, and leaves the ring as it was', () => {
    const cluster = new CacheCluster({ servers: first3, gutterServers: [fourth] });
    clusters.push(cluster);
    expect(() => cluster.setNodes([])).toThrow(TypeError);
    expect(() => cluster.setNodes([first3[0] as string, first3[0] as string])).toThrow(TypeError);
    expect(() => cluster.setNodes([...first3, fourth])).toThrow(/gutter/);
    expect(cluster.servers).toEqual(first3);
  });
});
