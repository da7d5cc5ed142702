import { CacheCluster } from '@memshop/cache';
import { waitFor } from '@memshop/testing';
import { readRawEntry } from './support/cache-inspector';
import {
  startCatalogInstance,
  startCatalogWorld,
  type CatalogInstance,
  type CatalogWorld,
} from './support/catalog-world';
import { waitForEventsToDrain } from './support/event-drain';
import { requestJson } from './support/http-client';

/**
 * The torture test's interleavings, replayed one step at a time. A writer that stalls between
 * its commit and its write-through (a GC pause, a busy event loop) lets other writes, purges and
 * events go by; its write-through then lands last. Whatever it finds in the cache at that moment
 * must not let the older value in.
 */
let world: CatalogWorld;
let slowWriter: CatalogInstance;
let other: CatalogInstance;
let checker: CacheCluster;
const held = new Map<number, { release: () => void; released: Promise<void> }>();

function holdNextWriteOf(id: number): () => void {
  let release = () => undefined as void;
  const released = new Promise<void>((resolve) => (release = resolve));
  held.set(id, { release, released });
  return () => {
    held.delete(id);
    release();
  };
}

beforeAll(async () => {
  world = await startCatalogWorld({ products: 12 });
  slowWriter = await startCatalogInstance(world, 'slow-writer', {
    afterProductCommit: (id) => held.get(id)?.released ?? Promise.resolve(),
  });
  other = await startCatalogInstance(world, 'other');
  checker = new CacheCluster({ servers: world.memcached.servers, opTimeoutMs: 5000 });
}, 120_000);

afterAll(async () => {
  for (const { release } of held.values()) release();
  await checker?.close().catch(() => undefined);
  await other?.close();
  await slowWriter?.close();
  await world?.close();
}, 60_000);

async function cachedVersusDatabase(id: number) {
  const entry = await readRawEntry(checker, slowWriter.catalogCache.productKey(id));
  const truth = await world.adminRepository.findProduct(id);
  const cached = entry.kind === 'entry' ? entry.value : null;
  return { cached, truth, stale: cached !== null && JSON.stringify(cached) !== JSON.stringify(truth) };
}

describe('a write-through that lands after later changes', () => {
  it('does not bring back the old category name after a category rename (same product version)', async () => {
    const id = 1; // seed category 1
    await requestJson(other.url, `/products/${id}`);
    const release = holdNextWriteOf(id);
    const write = requestJson(slowWriter.url, `/products/${id}`, {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 111 },
    });
    await waitFor(async () => (await world.adminRepository.findProduct(id))?.priceCents === 111, {
      message: 'the held product update committed',
    });
    await waitForEventsToDrain(world, [slowWriter, other]);

    const rename = await requestJson(other.url, '/categories/1', {
      method: 'PATCH',
      as: world.as.admin,
      body: { name: 'Renamed' },
    });
    expect(rename.status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);

    release();
    expect((await write).status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);
    const { cached, truth, stale } = await cachedVersusDatabase(id);
    const served = await requestJson(other.url, `/products/${id}`);
    console.log(
      `late write-through after a category rename: stale entry ${stale ? 1 : 0} ` +
        `(cached category ${JSON.stringify((cached as { category?: unknown } | null)?.category)}, database ${JSON.stringify(truth?.category)})`,
    );
    expect(stale).toBe(false);
    expect(served.body).toEqual(truth);
  });

  it('does not replace a newer value that a read loaded into the cache', async () => {
    const id = 2;
    const release = holdNextWriteOf(id);
    const older = requestJson(slowWriter.url, `/products/${id}`, {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 201 },
    });
    await waitFor(async () => (await world.adminRepository.findProduct(id))?.priceCents === 201, {
      message: 'the held product update committed',
    });
    const newer = await requestJson(other.url, `/products/${id}`, {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 202 },
    });
    expect(newer.status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);

    // memcached dropped the entry (LRU eviction, or its TTL ran out); the next read loads the
    // newest row and populates it.
    await checker.delete(slowWriter.catalogCache.productKey(id));
    const read = await requestJson(other.url, `/products/${id}`);
    expect(read.xCache).toBe('miss');
    expect((read.body as { priceCents: number }).priceCents).toBe(202);
    await other.cache.drain();

    release();
    expect((await older).status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);
    const { cached, truth, stale } = await cachedVersusDatabase(id);
    console.log(
      `late write-through over a read-populated entry: stale entry ${stale ? 1 : 0} ` +
        `(cached priceCents ${(cached as { priceCents?: number } | null)?.priceCents}, database ${truth?.priceCents})`,
    );
    expect(stale).toBe(false);
  });
  it('does not bring an older version back into a key memcached dropped after the newer write', async () => {
    const id = 6;
    const release = holdNextWriteOf(id);
    const older = requestJson(slowWriter.url, `/products/${id}`, {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 601 },
    });
    await waitFor(async () => (await world.adminRepository.findProduct(id))?.priceCents === 601, {
      message: 'the held product update committed',
    });
    const newer = await requestJson(other.url, `/products/${id}`, {
      method: 'PATCH',
      as: world.as.admin,
      body: { priceCents: 602 },
    });
    expect(newer.status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);
    // memcached dropped the newer entry (LRU eviction) and nobody read the product since.
    await checker.delete(slowWriter.catalogCache.productKey(id));

    release();
    expect((await older).status).toBe(200);
    await waitForEventsToDrain(world, [slowWriter, other]);
    const { cached, truth, stale } = await cachedVersusDatabase(id);
    console.log(
      `late write-through into a dropped key: stale entry ${stale ? 1 : 0} ` +
        `(cached priceCents ${(cached as { priceCents?: number } | null)?.priceCents}, database ${truth?.priceCents})`,
    );
    expect(stale).toBe(false);
  });
});
