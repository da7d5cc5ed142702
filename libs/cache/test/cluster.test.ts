import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { CacheCluster } from '../src/cluster.js';
import { CacheConnectionError, CacheKeyError } from '../src/errors.js';
import { keySpace } from '../src/keys.js';
import { noopCacheMetrics, type CacheMetrics } from '../src/metrics.js';
import { startSaslRecorder } from './transport/sasl-recorder.js';

// No test here is about op timeouts (cluster-faults.test.ts is, with faults it owns): a loaded
// 2-core CI machine can starve a healthy memcached past the production 150 ms.
const OP_TIMEOUT_MS = 5_000;

const products = keySpace({ prefix: 'test', entity: 'cluster', schemaVersion: 1 });
let run = 0;
/** Keys unique to one test, so tests don't see each other's items. */
const freshKeys = (count: number): string[] => {
  run += 1;
  return Array.from({ length: count }, (_, i) => products.key(`${run}-${i}`));
};

function writesPerNode(cluster: CacheCluster): Map<string, number> {
  return new Map(cluster.status().map((node) => [node.server, node.writes]));
}

describe('CacheCluster on 3 real memcached nodes', () => {
  let memcached: MemcachedCluster;
  let cluster: CacheCluster;
  const operations: Array<{ node: string; op: string }> = [];
  const metrics: CacheMetrics = {
    ...noopCacheMetrics,
    observeOperation: (node, op) => operations.push({ node, op }),
  };

  beforeAll(async () => {
    memcached = await startMemcachedCluster(3);
    cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: OP_TIMEOUT_MS, metrics });
  });

  afterAll(async () => {
    await cluster?.close();
    await memcached?.stop();
  });

  it('get / set / add / delete with flags and CAS', async () => {
    const [key, other] = freshKeys(2) as [string, string];
    expect(await cluster.get(key)).toBeNull();
    expect(await cluster.set(key, Buffer.from('one'), 60, { flags: 7 })).toBe(true);
    const item = await cluster.get(key);
    expect(item?.value.toString()).toBe('one');
    expect(item?.flags).toBe(7);
    expect(typeof item?.cas).toBe('bigint');

    expect(await cluster.add(key, Buffer.from('two'), 60)).toBeNull();
    expect((await cluster.get(key))?.value.toString()).toBe('one');

    const addCas = await cluster.add(other, Buffer.from('lease'), 60);
    expect(addCas).not.toBeNull();
    expect(await cluster.set(other, Buffer.from('value'), 60, { cas: addCas as bigint })).toBe(true);
    expect((await cluster.get(other))?.value.toString()).toBe('value');

    expect(await cluster.delete(key)).toBe(true);
    expect(await cluster.delete(key)).toBe(false);
    expect(await cluster.get(key)).toBeNull();
  });

  it('CAS set fails on mismatch and on a deleted item', async () => {
    const [key] = freshKeys(1) as [string];
    await cluster.set(key, Buffer.from('v1'), 60);
    const first = (await cluster.get(key))!;
    expect(await cluster.set(key, Buffer.from('v2'), 60)).toBe(true);
    // someone else wrote in between: our CAS is stale
    expect(await cluster.set(key, Buffer.from('stale'), 60, { cas: first.cas })).toBe(false);
    expect((await cluster.get(key))?.value.toString()).toBe('v2');

    const second = (await cluster.get(key))!;
    await cluster.delete(key);
    // the lease race: a delete between read and CAS write makes the write fail
    expect(await cluster.set(key, Buffer.from('stale'), 60, { cas: second.cas })).toBe(false);
    expect(await cluster.get(key)).toBeNull();
  });

  it('incr creates with the initial value, adds, subtracts (floored at 0) and handles 64-bit values', async () => {
    const [counter, big] = freshKeys(2) as [string, string];
    expect(await cluster.incr(counter, 5, { initial: 1n })).toBe(1n);
    expect(await cluster.incr(counter, 5)).toBe(6n);
    expect(await cluster.incr(counter, -2)).toBe(4n);
    expect(await cluster.incr(counter, -100)).toBe(0n);
    expect(await cluster.incr(big, 1n, { initial: 2n ** 40n })).toBe(2n ** 40n);
    expect(await cluster.incr(big, 2n ** 33n)).toBe(2n ** 40n + 2n ** 33n);
  });

  it('getMany of 50 keys over 3 nodes costs exactly one write per node', async () => {
    const keys = freshKeys(50);
    const owners = new Set(keys.map((key) => cluster.nodeFor(key)));
    expect(owners.size).toBe(3);
    const stored = keys.filter((_, i) => i % 2 === 0);
    for (const key of stored) await cluster.set(key, Buffer.from(`value of ${key}`), 60, { flags: 3 });

    const before = writesPerNode(cluster);
    operations.length = 0;
    const { found, failed } = await cluster.getMany([...keys, ...keys.slice(0, 5)]);
    const after = writesPerNode(cluster);

    for (const server of memcached.servers)
      expect((after.get(server) ?? 0) - (before.get(server) ?? 0)).toBe(1);
    expect(
      operations
        .filter((o) => o.op === 'getMany')
        .map((o) => o.node)
        .sort(),
    ).toEqual([...memcached.servers].sort());
    expect(failed.size).toBe(0);
    expect([...found.keys()].sort()).toEqual([...stored].sort());
    for (const key of stored) {
      expect(found.get(key)?.value.toString()).toBe(`value of ${key}`);
      expect(found.get(key)?.flags).toBe(3);
    }
    expect((await cluster.getMany([])).found.size).toBe(0);
  });

  it('setMany: one write per node, per entry stored / not_stored (CAS mismatch, item gone, too large)', async () => {
    const keys = freshKeys(30);
    const [stale, gone, tooLarge] = keys as [string, string, string];
    await cluster.set(stale, Buffer.from('v1'), 60);
    const staleCas = (await cluster.get(stale))!.cas;
    await cluster.set(stale, Buffer.from('v2'), 60);
    await cluster.set(gone, Buffer.from('v1'), 60);
    const goneCas = (await cluster.get(gone))!.cas;
    await cluster.delete(gone);

    const before = writesPerNode(cluster);
    const results = await cluster.setMany(
      keys.map((key) => ({
        key,
        value: key === tooLarge ? Buffer.alloc(cluster.maxValueBytes + 1) : Buffer.from(`batch ${key}`),
        ttlSeconds: 60,
        cas: key === stale ? staleCas : key === gone ? goneCas : undefined,
        flags: 5,
      })),
    );
    const after = writesPerNode(cluster);

    expect(results).toEqual(keys.map((_, i) => (i < 3 ? 'not_stored' : 'stored')));
    const nodes = new Set(keys.filter((k) => k !== tooLarge).map((k) => cluster.nodeFor(k)));
    for (const server of memcached.servers)
      expect((after.get(server) ?? 0) - (before.get(server) ?? 0)).toBe(nodes.has(server) ? 1 : 0);
    expect((await cluster.get(stale))?.value.toString()).toBe('v2');
    expect(await cluster.get(gone)).toBeNull();
    expect(await cluster.get(tooLarge)).toBeNull();
    for (const key of keys.slice(3)) {
      const item = await cluster.get(key);
      expect(item?.value.toString()).toBe(`batch ${key}`);
      expect(item?.flags).toBe(5);
    }
    expect(await cluster.setMany([])).toEqual([]);
  });

  it('puts every key on the node the ring names, the same in every client', async () => {
    const keys = freshKeys(30);
    const reversed = new CacheCluster({
      servers: [...memcached.servers].reverse(),
      opTimeoutMs: OP_TIMEOUT_MS,
    });
    const direct = new Map(
      memcached.servers.map((server) => [
        server,
        new CacheCluster({ servers: [server], opTimeoutMs: OP_TIMEOUT_MS }),
      ]),
    );
    try {
      for (const key of keys) {
        expect(reversed.nodeFor(key)).toBe(cluster.nodeFor(key));
        await cluster.set(key, Buffer.from('here'), 60);
      }
      for (const key of keys) {
        for (const [server, single] of direct) {
          const item = await single.get(key);
          expect(item === null ? 'absent' : 'present').toBe(
            server === cluster.nodeFor(key) ? 'present' : 'absent',
          );
        }
      }
    } finally {
      await reversed.close();
      for (const single of direct.values()) await single.close();
    }
  });

  it('skips values over maxValueBytes without sending them', async () => {
    const [key, edge] = freshKeys(2) as [string, string];
    const before = writesPerNode(cluster).get(cluster.nodeFor(key));
    expect(await cluster.set(key, Buffer.alloc(cluster.maxValueBytes + 1), 60)).toBe(false);
    expect(await cluster.add(key, Buffer.alloc(cluster.maxValueBytes + 1), 60)).toBeNull();
    expect(writesPerNode(cluster).get(cluster.nodeFor(key))).toBe(before);
    expect(await cluster.get(key)).toBeNull();
    expect(await cluster.set(edge, Buffer.alloc(cluster.maxValueBytes, 1), 60)).toBe(true);
    expect((await cluster.get(edge))?.value.length).toBe(cluster.maxValueBytes);
  });

  it('returns false when memcached itself refuses a value as too large', async () => {
    const small = new CacheCluster({
      servers: memcached.servers,
      opTimeoutMs: OP_TIMEOUT_MS,
      maxValueBytes: 4_000_000,
    });
    try {
      const [key] = freshKeys(1) as [string];
      expect(await small.set(key, Buffer.alloc(2_000_000), 60)).toBe(false);
    } finally {
      await small.close();
    }
  });

  it('rejects keys memcached would refuse', async () => {
    await expect(cluster.get('has space')).rejects.toBeInstanceOf(CacheKeyError);
    await expect(cluster.set('x'.repeat(251), Buffer.from('v'), 1)).rejects.toBeInstanceOf(CacheKeyError);
    await expect(cluster.getMany(['ok', ''])).rejects.toBeInstanceOf(CacheKeyError);
  });

  it('reports every node up', () => {
    expect(
      cluster.status().map(({ server, state, consecutiveFailures, role }) => ({
        server,
        state,
        consecutiveFailures,
        role,
      })),
    ).toEqual(
      memcached.servers.map((server) => ({ server, state: 'up', consecutiveFailures: 0, role: 'primary' })),
    );
  });
});

describe('CacheCluster options', () => {
  it('rejects servers without an explicit port and duplicate servers', () => {
    expect(() => new CacheCluster({ servers: ['127.0.0.1'] })).toThrow(/explicit port/);
    expect(() => new CacheCluster({ servers: [] })).toThrow(TypeError);
    expect(() => new CacheCluster({ servers: ['a:1'], gutterServers: ['a:1'] })).toThrow(/distinct/);
  });
});

describe('CacheCluster SASL', () => {
  it('authenticates with the configured credentials before the first request', async () => {
    const recorder = await startSaslRecorder('s3cret');
    const cluster = new CacheCluster({
      servers: [recorder.server],
      opTimeoutMs: OP_TIMEOUT_MS,
      username: 'memshop',
      password: 's3cret',
    });
    try {
      expect(await cluster.get('k')).toBeNull();
      expect(recorder.frames.map((f) => f.opcode)).toEqual([0x20, 0x21, 0x00]);
      expect(recorder.frames[1]?.body).toBe('PLAIN\u0000memshop\u0000s3cret');
    } finally {
      await cluster.close();
      await recorder.close();
    }
  });

  it('fails the request when the node rejects the credentials', async () => {
    const recorder = await startSaslRecorder('s3cret');
    const cluster = new CacheCluster({
      servers: [recorder.server],
      opTimeoutMs: OP_TIMEOUT_MS,
      username: 'memshop',
      password: 'wrong',
    });
    try {
      await expect(cluster.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    } finally {
      await cluster.close();
      await recorder.close();
    }
  });

  it('never picks up credentials from memjs environment variables', async () => {
    const recorder = await startSaslRecorder('s3cret');
    process.env.MEMCACHE_USERNAME = 'memshop';
    process.env.MEMCACHE_PASSWORD = 's3cret';
    const cluster = new CacheCluster({ servers: [recorder.server], opTimeoutMs: OP_TIMEOUT_MS });
    try {
      expect(await cluster.get('k')).toBeNull();
      expect(recorder.frames.map((f) => f.opcode)).toEqual([0x00]);
    } finally {
      delete process.env.MEMCACHE_USERNAME;
      delete process.env.MEMCACHE_PASSWORD;
      await cluster.close();
      await recorder.close();
    }
  });
});
