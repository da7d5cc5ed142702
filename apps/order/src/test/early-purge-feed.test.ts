import {
  Cache,
  CacheCluster,
  createInvalidationEvent,
  VersionFloors,
  type InvalidationEvent,
} from '@memshop/cache';
import { createLogger } from '@memshop/service-kit';
import { createTestInfrastructure, rabbitUrl, waitFor } from '@memshop/testing';
import * as amqp from 'amqplib';
import { orderCacheKeys } from '../data/cache-keys';
import { createEarlyPurgeFeed } from '../events/early-purge-feed';
import { createUpstreamInvalidationHandler } from '../events/upstream-invalidation';

/**
 * The early purge feed alone, running order-service's own handler, on an exchange of the test's
 * own with no durable queue bound: whatever purges a copy or raises a floor here was the feed.
 */
const infra = createTestInfrastructure();
const keys = orderCacheKeys(1);
const logger = createLogger({ service: 'order', level: 'warn' });
let cache: Cache;
let floors: VersionFloors<number>;
let exchange: string;
let channel: amqp.Channel;

beforeAll(async () => {
  // One node, so operations reach memcached in the order the events started them.
  const memcached = await infra.memcached(1);
  const cluster = new CacheCluster({ servers: memcached.servers });
  infra.cleanup.add(() => cluster.close());
  cache = new Cache({ cluster });
  infra.cleanup.add(() => cache.close());
  floors = new VersionFloors<number>(cache, { keyOf: keys.productFloor, ttlSeconds: 60 });
  exchange = infra.rabbit({ exchange: 'order-early-purge', queue: 'order-early-purge-unused' }).exchange;
  const purge = createUpstreamInvalidationHandler({ cache, keys, productFloors: floors, logger });
  const feed = createEarlyPurgeFeed({ url: rabbitUrl(), exchange, purge, logger });
  infra.cleanup.add(() => feed.close());
  await feed.start();
  expect(await feed.waitUntilConnected(10_000)).toBe(true);
  const publisher = await amqp.connect(rabbitUrl());
  infra.cleanup.add(() => publisher.close());
  channel = await publisher.createChannel();
}, 60_000);

afterAll(async () => {
  await infra.close();
});

function publish(
  event: InvalidationEvent,
  routingKey = `${event.source}.${event.entity}.${event.action}`,
): void {
  channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(event)));
}

async function cacheCopy(key: string): Promise<void> {
  await cache.writeThrough(key, { copy: key }, { version: 1, entity: 'copy', ttlSeconds: 60 });
  expect(await cache.cachedVersion(key, { strict: true })).toBe(1);
}

/** Strict reads: a get that memcached did not answer is not taken for a purge. */
const gone = (key: string, what: string) =>
  waitFor(async () => (await cache.cachedVersion(key, { strict: true })) === undefined, { message: what });

test("purges the copies of a product and of a user as soon as the broker routes their events, and raises the product's floor", async () => {
  await cacheCopy(keys.product(501));
  await cacheCopy(keys.user(502));
  publish(
    createInvalidationEvent({
      source: 'catalog',
      entity: 'product',
      action: 'updated',
      entityId: '501',
      version: 7,
    }),
  );
  publish(createInvalidationEvent({ source: 'user', entity: 'user', action: 'updated', entityId: '502' }));
  await gone(keys.product(501), "the product's copy purged by the feed");
  await gone(keys.user(502), "the user's copy purged by the feed");
  // A refill right after the early purge reads at least this version, not catalog's cached one.
  await waitFor(async () => (await floors.read([501])).get(501) === 7, {
    message: "the product's floor at 7",
  });
});

test('runs at most maxInFlight events at once and leaves the rest to the durable queue', async () => {
  const started: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const bounded = createEarlyPurgeFeed({
    url: rabbitUrl(),
    exchange,
    maxInFlight: 1,
    purge: async (event) => {
      started.push(event.entityId);
      await held;
    },
    logger,
  });
  const heard: string[] = [];
  bounded.onEventHandled((event) => heard.push(event.entityId));
  try {
    await bounded.start();
    expect(await bounded.waitUntilConnected(10_000)).toBe(true);
    for (const id of ['601', '602']) {
      publish(createInvalidationEvent({ source: 'user', entity: 'user', action: 'updated', entityId: id }));
    }
    await waitFor(() => heard.length === 2, { message: 'both events heard' });
    expect(started).toEqual(['601']);
    release();
    publish(createInvalidationEvent({ source: 'user', entity: 'user', action: 'updated', entityId: '603' }));
    await waitFor(() => started.includes('603'), { message: 'a slot free again once the first ended' });
    expect(started).toEqual(['601', '603']);
  } finally {
    release();
    await bounded.close();
  }
});
