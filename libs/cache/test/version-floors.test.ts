import { startMemcachedCluster, type MemcachedCluster } from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import { keySpace } from '../src/keys.js';
import { VersionFloors } from '../src/version-floors.js';

jest.setTimeout(60_000);

// Not about op timeouts: a stopped node refuses at once, and a loaded CI machine must not turn a
// live node's slow reply into a failure.
const OP_TIMEOUT_MS = 5_000;

let memcached: MemcachedCluster;
let cluster: CacheCluster;
let cache: Cache;
let run = 0;

/** A key space of its own per test, so floors of one test never meet another's. */
function newFloors(): { floors: VersionFloors<number>; keyOf: (id: number) => string } {
  run += 1;
  const space = keySpace({ prefix: 'test', entity: `floor-${process.pid}-${run}`, schemaVersion: 1 });
  const keyOf = (id: number) => space.key(String(id));
  return { floors: new VersionFloors<number>(cache, { keyOf, ttlSeconds: 60 }), keyOf };
}

beforeAll(async () => {
  memcached = await startMemcachedCluster(2);
  // Never ejects a node: the tests below are about a node that does not answer while its keys
  // still route to it (the moments before ejection), not about the ring moving them.
  cluster = new CacheCluster({
    servers: memcached.servers,
    opTimeoutMs: OP_TIMEOUT_MS,
    ejectAfterFailures: 1_000_000,
  });
  cache = new Cache({ cluster });
});

afterAll(async () => {
  await cache?.close();
  await cluster?.close();
  await memcached?.stop();
});

describe('VersionFloors against real memcached', () => {
  it('reads back a raised floor, and has none for an entity never raised', async () => {
    const { floors } = newFloors();
    await floors.raise(1, 7);
    const read = await floors.read([1, 2]);
    expect(read.get(1)).toBe(7);
    expect(read.has(2)).toBe(false);
  });

  it('never lowers a floor: an older event arriving late leaves the newer one', async () => {
    const { floors } = newFloors();
    await floors.raise(1, 9);
    await floors.raise(1, 4);
    expect((await floors.read([1])).get(1)).toBe(9);
    await floors.raise(1, 12);
    expect((await floors.read([1])).get(1)).toBe(12);
  });

  it('answers Infinity for a floor its node did not answer for, and refuses to raise it', async () => {
    const { floors, keyOf } = newFloors();
    const down = memcached.nodes[0]!;
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    const onDown = ids.filter((id) => cluster.nodeFor(keyOf(id)) === down.server);
    const onUp = ids.filter((id) => cluster.nodeFor(keyOf(id)) !== down.server);
    expect(onDown.length).toBeGreaterThan(0);
    expect(onUp.length).toBeGreaterThan(0);
    await floors.raise(onUp[0]!, 3);
    await down.stop();
    try {
      const read = await floors.read([onDown[0]!, onUp[0]!, onUp[1]!]);
      // Unknown is not "none": a refill must read the owner's database for it.
      expect(read.get(onDown[0]!)).toBe(Number.POSITIVE_INFINITY);
      expect(read.get(onUp[0]!)).toBe(3);
      expect(read.has(onUp[1]!)).toBe(false);
      await expect(floors.raise(onDown[0]!, 5)).rejects.toThrow();
      // The lenient read the floors do not use still reports an unanswered get as no entry.
      await expect(cache.cachedVersion(keyOf(onDown[0]!))).resolves.toBeUndefined();
      await expect(cache.cachedVersion(keyOf(onDown[0]!), { strict: true })).rejects.toThrow();
    } finally {
      await down.start();
    }
  });
});
