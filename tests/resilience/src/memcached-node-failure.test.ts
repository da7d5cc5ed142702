import { waitFor, type MemcachedNode } from '@memshop/testing';
import {
  startCatalogInstance,
  startCatalogWorld,
  type CatalogInstance,
  type CatalogWorld,
} from './support/catalog-world';
import { requestJson } from './support/http-client';

const PRODUCTS = 60;
const READERS = 4;
/** Reads per phase: 20 passes over the 60 products. */
const READS_PER_PHASE = 20 * PRODUCTS;
/** The node is killed once this many reads of the outage phase are done (it dies under load). */
const KILL_AFTER_READS = 100;

let world: CatalogWorld;
let catalog: CatalogInstance;
const ids = Array.from({ length: PRODUCTS }, (_, i) => i + 1);

beforeAll(async () => {
  world = await startCatalogWorld({ products: PRODUCTS });
  catalog = await startCatalogInstance(world, 'reader', { productionMemcachedTimeout: true });
}, 120_000);

afterAll(async () => {
  await catalog?.close();
  await world?.close();
}, 60_000);

interface PhaseCounts {
  reads: number;
  failed: number;
  statuses: Record<string, number>;
  loaderCalls: number;
}

/** READERS concurrent loops over the products, `total` reads in all; `onRead(n)` after each. */
async function steadyReads(total: number, onRead: (n: number) => Promise<void> | void = () => undefined) {
  const before = await catalog.loaderCalls();
  const counts: PhaseCounts = { reads: 0, failed: 0, statuses: {}, loaderCalls: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: READERS }, async () => {
      while (next < total) {
        const id = ids[next % PRODUCTS] as number;
        next += 1;
        const res = await requestJson(catalog.url, `/products/${id}`);
        counts.reads += 1;
        if (res.status !== 200) counts.failed += 1;
        const status = res.xCache ?? 'none';
        counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
        await onRead(counts.reads);
      }
    }),
  );
  await catalog.cache.drain();
  counts.loaderCalls = (await catalog.loaderCalls()) - before;
  return counts;
}

const hitRatio = (c: PhaseCounts) => (c.statuses['hit'] ?? 0) / c.reads;

describe('memcached node failure under steady read load', () => {
  it('one of three nodes killed: zero failed requests, bounded database load, hit ratio back after its return', async () => {
    await steadyReads(PRODUCTS);
    const warm = await steadyReads(READS_PER_PHASE);
    expect(hitRatio(warm)).toBe(1);

    const keysByNode = new Map<string, number>();
    for (const id of ids) {
      const node = catalog.cluster.nodeFor(catalog.catalogCache.productKey(id));
      keysByNode.set(node, (keysByNode.get(node) ?? 0) + 1);
    }
    const [victimServer, victimKeys] = [...keysByNode.entries()].sort((x, y) => y[1] - x[1])[0] as [
      string,
      number,
    ];
    const victim = world.memcached.nodes.find((n) => n.server === victimServer) as MemcachedNode;

    let killed: Promise<void> | undefined;
    const outage = await steadyReads(READS_PER_PHASE, (n) => {
      if (n === KILL_AFTER_READS) killed = victim.kill();
    });
    await killed;
    const ejected = catalog.cluster.status().find((s) => s.server === victimServer)?.state;

    await victim.start();
    await waitFor(() => catalog.cluster.status().every((s) => s.state === 'up'), {
      timeoutMs: 15_000,
      message: 'the restarted node probed, flushed and back on the ring',
    });
    const rejoin = await steadyReads(PRODUCTS);
    const after = await steadyReads(READS_PER_PHASE);
    // The returned node holds its keys again (not some fallback node).
    const onVictim = ids.filter(
      (id) => catalog.cluster.routeFor(catalog.catalogCache.productKey(id))?.server === victimServer,
    );
    expect(onVictim).toHaveLength(victimKeys);

    // Each of the dead node's keys is loaded at most twice: once while its failures were being
    // counted (before ejection), once more into the fallback node.
    const loaderBound = 2 * victimKeys;
    console.log(
      `one node killed: ${victimKeys}/${PRODUCTS} keys on it, state after kill ${ejected}; outage phase ${outage.reads} reads, ` +
        `failed ${outage.failed}, database loads ${outage.loaderCalls} (bound ${loaderBound}), hit ratio ${hitRatio(outage).toFixed(3)}, ` +
        `X-Cache ${JSON.stringify(outage.statuses)}; after return: first pass loads ${rejoin.loaderCalls}, ` +
        `then ${after.reads} reads with hit ratio ${hitRatio(after).toFixed(3)}, database loads ${after.loaderCalls}`,
    );
    expect(outage.failed).toBe(0);
    expect(ejected).toBe('ejected');
    expect(outage.loaderCalls).toBeLessThanOrEqual(loaderBound);
    // The returned node was flushed (it missed deletes): its keys load once, the others stay hits.
    expect(rejoin.loaderCalls).toBe(onVictim.length);
    expect(rejoin.failed).toBe(0);
    expect(after.failed).toBe(0);
    expect(after.loaderCalls).toBe(0);
    expect(hitRatio(after)).toBe(1);
  }, 120_000);

  it('all nodes down: zero failed reads, every one served from Postgres as X-Cache: bypass', async () => {
    await Promise.all(world.memcached.nodes.map((node) => node.kill()));
    const down = await steadyReads(3 * PRODUCTS);
    console.log(
      `all nodes down: ${down.reads} reads, failed ${down.failed}, database loads ${down.loaderCalls}, ` +
        `X-Cache ${JSON.stringify(down.statuses)}`,
    );
    expect(down.failed).toBe(0);
    expect(down.statuses).toEqual({ bypass: down.reads });
    expect(down.loaderCalls).toBe(down.reads);
  }, 60_000);
});
