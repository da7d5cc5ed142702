import { randomUUID } from 'node:crypto';
import {
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  startTcpProxy,
  uniqueName,
  waitFor,
  type MemcachedCluster,
  type TcpProxy,
} from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import type { InstanceInvalidationFeed } from '../src/instance-invalidation-feed.js';
import { InvalidationBus } from '../src/invalidation-bus.js';
import { createInvalidationEvent } from '../src/invalidation-event.js';
import { createNearCacheFeed } from '../src/near-cache-feed.js';
import { NearCache, type NearCacheOptions } from '../src/near-cache.js';

jest.setTimeout(60_000);

interface Versioned {
  id: string;
  version: number;
  payload?: string;
}
const isVersioned = (v: unknown): v is Versioned =>
  typeof v === 'object' && v !== null && typeof (v as Versioned).version === 'number';

let memcached: MemcachedCluster;
const exchanges: string[] = [];
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  memcached = await startMemcachedCluster(2);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await deleteRabbitObjects({ exchanges });
  await memcached?.stop();
});

const PREFIX = 'near:item:';

/** One service instance: its own memcached clients, near cache, Cache and instance feed. */
async function instance(
  opts: {
    exchange?: string;
    url?: string;
    near?: Partial<NearCacheOptions>;
    delivered?: number[];
  } = {},
): Promise<{ cache: Cache; near: NearCache; feed: InstanceInvalidationFeed | null }> {
  const cluster = new CacheCluster({ servers: memcached.servers, opTimeoutMs: 1000 });
  const near = new NearCache({
    store: cluster,
    keyPrefixes: [PREFIX],
    hotKeys: { minReadsPerSecond: 0 },
    ...opts.near,
  });
  // One clock for both tiers, as in a service: entries' times and the near cache's rules agree.
  const cache = new Cache({ cluster: near, ...(opts.near?.clock ? { clock: opts.near.clock } : {}) });
  closers.push(
    () => cluster.close(),
    () => cache.close(),
  );
  if (!opts.exchange) return { cache, near, feed: null };
  const feed = createNearCacheFeed({
    url: opts.url ?? rabbitUrl(),
    service: 'reader',
    exchange: opts.exchange,
    bindings: ['#'],
    nearCache: near,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 500,
    keysOf: (event) => {
      opts.delivered?.push(event.version ?? -1);
      return [PREFIX + event.entityId];
    },
  });
  closers.push(() => feed.close());
  await feed.start();
  expect(await feed.waitUntilConnected()).toBe(true);
  return { cache, near, feed };
}

async function publisherOn(exchange: string): Promise<InvalidationBus> {
  const bus = new InvalidationBus({ url: rabbitUrl(), service: 'writer', exchange });
  closers.push(() => bus.close());
  await bus.start();
  expect(await bus.waitUntilConnected()).toBe(true);
  return bus;
}

function changed(id: string, version: number) {
  return createInvalidationEvent({
    source: 'writer',
    entity: 'item',
    action: 'updated',
    entityId: id,
    version,
  });
}

function read(cache: Cache, key: string, load: () => Versioned | null = () => null) {
  return cache.getOrLoad<Versioned>(key, async () => load(), {
    validate: isVersioned,
    versionOf: (v) => v.version,
  });
}

describe('NearCache in front of real memcached, kept coherent over real RabbitMQ', () => {
  it('never serves another instance a version older than the last event it was delivered', async () => {
    const exchange = uniqueName('near-ex');
    exchanges.push(exchange);
    const delivered: number[] = [];
    const writer = await instance({ exchange });
    const reader = await instance({ exchange, delivered });
    const bus = await publisherOn(exchange);
    const id = randomUUID();
    const key = PREFIX + id;
    await writer.cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    expect((await read(reader.cache, key)).value?.version).toBe(1);
    expect(reader.near.holds(key)).toBe(true);

    let stale = 0;
    for (let version = 2; version <= 60; version++) {
      await writer.cache.writeThrough(key, { id, version }, { version });
      await bus.publish(changed(id, version));
      // Reads while the event is on its way may see the old copy; after delivery, never.
      await read(reader.cache, key);
      await waitFor(() => delivered.includes(version), { message: `event ${version} delivered` });
      const after = await read(reader.cache, key);
      if ((after.value?.version ?? 0) < version) stale += 1;
      expect(reader.near.holds(key)).toBe(true);
    }
    expect(stale).toBe(0);
  });

  it('does not hold a version older than a delivered event while memcached still has it', async () => {
    const exchange = uniqueName('near-ex');
    exchanges.push(exchange);
    const delivered: number[] = [];
    const writer = await instance({ exchange });
    const reader = await instance({ exchange, delivered });
    const bus = await publisherOn(exchange);
    const id = randomUUID();
    const key = PREFIX + id;
    await writer.cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    await read(reader.cache, key);
    expect(reader.near.holds(key)).toBe(true);

    // The event overtakes the memcached refresh (the writer died; another consumer fixes it).
    await bus.publish(changed(id, 2));
    await waitFor(() => delivered.includes(2));
    expect((await read(reader.cache, key)).value?.version).toBe(1);
    expect(reader.near.holds(key)).toBe(false);

    await writer.cache.writeThrough(key, { id, version: 2 }, { version: 2 });
    expect((await read(reader.cache, key)).value?.version).toBe(2);
    expect(reader.near.holds(key)).toBe(true);
  });

  it('reads its own writes at once', async () => {
    const { cache, near } = await instance();
    near.setFeedConnected(true);
    const id = randomUUID();
    const key = PREFIX + id;
    await cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    await read(cache, key);
    expect(near.holds(key)).toBe(true);
    await cache.writeThrough(key, { id, version: 2 }, { version: 2 });
    expect((await read(cache, key)).value?.version).toBe(2);
    await cache.invalidate(key);
    expect((await read(cache, key, () => ({ id, version: 3 }))).value?.version).toBe(3);
  });

  it('is bypassed and emptied while its feed is cut, and emptied again on reconnect', async () => {
    const exchange = uniqueName('near-ex');
    exchanges.push(exchange);
    const broker = new URL(rabbitUrl());
    const proxy: TcpProxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    closers.push(() => proxy.close());
    const viaProxy = new URL(rabbitUrl());
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    const writer = await instance({ exchange });
    const reader = await instance({ exchange, url: viaProxy.toString() });
    const bus = await publisherOn(exchange);
    const id = randomUUID();
    const key = PREFIX + id;
    await writer.cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    await read(reader.cache, key);
    expect(reader.near.holds(key)).toBe(true);

    proxy.cut();
    await waitFor(() => !reader.feed!.connected, { message: 'feed disconnected' });
    expect(reader.near.active).toBe(false);
    expect(reader.near.size).toBe(0);
    // Written and announced while this instance hears nothing: it must not keep serving v1.
    await writer.cache.writeThrough(key, { id, version: 2 }, { version: 2 });
    await bus.publish(changed(id, 2));
    expect((await read(reader.cache, key)).value?.version).toBe(2);
    expect(reader.near.holds(key)).toBe(false);

    // Hold one entry in the instant before reconnect is impossible (inactive); after it, nothing is left.
    proxy.restore();
    expect(await reader.feed!.waitUntilConnected(20_000)).toBe(true);
    expect(reader.near.active).toBe(true);
    expect(reader.near.size).toBe(0);
    // v2 was stored while this instance heard nothing: served, but not held, until it is stored again.
    expect((await read(reader.cache, key)).value?.version).toBe(2);
    expect(reader.near.holds(key)).toBe(false);
    await writer.cache.writeThrough(key, { id, version: 3 }, { version: 3 });
    expect((await read(reader.cache, key)).value?.version).toBe(3);
    expect(reader.near.holds(key)).toBe(true);
  });

  it('after an event that names no keys, holds only entries stored after it', async () => {
    let now = Date.now();
    const clock = () => now;
    const { cache, near } = await instance({ near: { clock } });
    near.setFeedConnected(true);
    const id = randomUUID();
    const key = PREFIX + id;
    now += 10;
    await cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    await read(cache, key);
    expect(near.holds(key)).toBe(true);
    // A category rename, say: every copy is suspect until its writer has fixed it.
    now += 10;
    near.clear();
    now += 10;
    expect((await read(cache, key)).value?.version).toBe(1);
    expect(near.holds(key)).toBe(false);
    await cache.writeThrough(key, { id, version: 2 }, { version: 2 });
    expect((await read(cache, key)).value?.version).toBe(2);
    expect(near.holds(key)).toBe(true);
  });

  it('holds entries stored before a clear again once ttlMs has passed since it', async () => {
    let now = Date.now();
    const clock = () => now;
    const { cache, near } = await instance({ near: { clock, ttlMs: 1000 } });
    const id = randomUUID();
    const key = PREFIX + id;
    await cache.writeThrough(key, { id, version: 1 }, { version: 1 });
    // The feed connects after the entry was stored, as in a process started beside a warm cluster.
    now += 10;
    near.setFeedConnected(true);
    now += 10;
    await read(cache, key);
    expect(near.holds(key)).toBe(false);
    now += 1000;
    expect((await read(cache, key)).value?.version).toBe(1);
    expect(near.holds(key)).toBe(true);
  });

  it('stays within its byte bound however much is read', async () => {
    const maxBytes = 64 * 1024;
    const { cache, near } = await instance({ near: { maxBytes } });
    near.setFeedConnected(true);
    const payload = 'x'.repeat(1000);
    let peak = 0;
    for (let i = 0; i < 1000; i++) {
      const id = `bounded-${randomUUID()}`;
      await cache.writeThrough(PREFIX + id, { id, version: 1, payload }, { version: 1 });
      await read(cache, PREFIX + id);
      peak = Math.max(peak, near.heldBytes);
    }
    expect(peak).toBeLessThanOrEqual(maxBytes);
    expect(near.heldBytes).toBeLessThanOrEqual(maxBytes);
    expect(near.size).toBeGreaterThan(10);
    expect(near.size).toBeLessThan(1000);
  });

  it('holds only keys read at or above the hot-key rate', async () => {
    let now = Date.now();
    const clock = () => now;
    const { cache, near } = await instance({ near: { hotKeys: { minReadsPerSecond: 5 }, clock } });
    near.setFeedConnected(true);
    const cold = PREFIX + randomUUID();
    const hot = PREFIX + randomUUID();
    await cache.writeThrough(cold, { id: cold, version: 1 }, { version: 1 });
    await cache.writeThrough(hot, { id: hot, version: 1 }, { version: 1 });
    // The write-through's own get counted as a read: start the reads in a new window.
    now += 1000;
    for (let i = 0; i < 4; i++) {
      await read(cache, cold);
      now += 300;
    }
    // Four reads spread over 1.2 s: never five in one second.
    expect(near.holds(cold)).toBe(false);
    for (let i = 0; i < 4; i++) await read(cache, hot);
    expect(near.holds(hot)).toBe(false);
    await read(cache, hot);
    expect(near.holds(hot)).toBe(true);
  });
});
