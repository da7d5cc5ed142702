import { Cache, CacheCluster, createInvalidationEvent, type InvalidationEvent } from '@memshop/cache';
import { createTestInfrastructure, rabbitUrl, waitFor } from '@memshop/testing';
import * as amqp from 'amqplib';
import { orderCacheKeys } from '../data/cache-keys';
import { createEarlyPurgeFeed } from '../events/early-purge-feed';

/**
 * The early purge feed alone, on an exchange of the test's own with no durable queue bound:
 * whatever removes a copy here was the feed.
 */
const infra = createTestInfrastructure();
let cache: Cache;
let exchange: string;
let publisher: amqp.ChannelModel;
let channel: amqp.Channel;
let feed: ReturnType<typeof createEarlyPurgeFeed>;
const keys = orderCacheKeys(1);

beforeAll(async () => {
  // One node, so deletes reach memcached in the order the events arrived.
  const memcached = await infra.memcached(1);
  const cluster = new CacheCluster({ servers: memcached.servers });
  cache = new Cache({ cluster });
  infra.cleanup.add(() => cluster.close());
  infra.cleanup.add(() => cache.close());
  exchange = infra.rabbit({ exchange: 'order-early-purge', queue: 'order-early-purge-unused' }).exchange;
  feed = createEarlyPurgeFeed({ url: rabbitUrl(), exchange, cache, keys, logger: console });
  infra.cleanup.add(() => feed.close());
  await feed.start();
  expect(await feed.waitUntilConnected(10_000)).toBe(true);
  publisher = await amqp.connect(rabbitUrl());
  infra.cleanup.add(() => publisher.close());
  channel = await publisher.createChannel();
}, 60_000);

afterAll(async () => {
  await infra.close();
});

function publish(event: InvalidationEvent): void {
  channel.publish(
    exchange,
    `${event.source}.${event.entity}.${event.action}`,
    Buffer.from(JSON.stringify(event)),
  );
}

async function cacheCopy(key: string): Promise<void> {
  await cache.writeThrough(key, { copy: key }, { version: 1, entity: 'copy', ttlSeconds: 60 });
  expect(await cache.cachedVersion(key)).toBe(1);
}

const gone = (key: string, what: string) =>
  waitFor(async () => (await cache.cachedVersion(key)) === undefined, { message: what });

test("purges order-service's copy of a product and of a user as soon as the broker routes the event", async () => {
  await cacheCopy(keys.product(501));
  await cacheCopy(keys.user(502));
  publish(
    createInvalidationEvent({
      source: 'catalog',
      entity: 'product',
      action: 'updated',
      entityId: '501',
      version: 2,
    }),
  );
  publish(createInvalidationEvent({ source: 'user', entity: 'user', action: 'updated', entityId: '502' }));
  await gone(keys.product(501), "the product's copy purged by the feed");
  await gone(keys.user(502), "the user's copy purged by the feed");
});

test('leaves alone what is not a copy of upstream data: orders (written through by order-service itself)', async () => {
  await cacheCopy(keys.order(503));
  await cacheCopy(keys.product(504));
  // An order event: not bound by the feed, and no copy of the feed's kind if it were.
  publish(createInvalidationEvent({ source: 'order', entity: 'order', action: 'updated', entityId: '503' }));
  // Delivered after it on the same queue and deleted after it on the same node: once this copy
  // is gone, a purge of the order's entry would have happened already.
  publish(
    createInvalidationEvent({ source: 'catalog', entity: 'product', action: 'deleted', entityId: '504' }),
  );
  await gone(keys.product(504), 'the later product event handled');
  expect(await cache.cachedVersion(keys.order(503))).toBe(1);
});
