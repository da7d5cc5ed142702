import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  uniqueName,
  waitFor,
  type MemcachedCluster,
} from '@memshop/testing';
import { Cache } from '../src/cache-aside.js';
import { CacheCluster } from '../src/cluster.js';
import { InvalidationBus } from '../src/invalidation-bus.js';
import { createInvalidationEvent } from '../src/invalidation-event.js';
import { createPromCacheMetrics } from '../src/metrics.js';
import { ParkedInvalidations } from '../src/parked-invalidations.js';

jest.setTimeout(60_000);

let memcached: MemcachedCluster;
const buses: InvalidationBus[] = [];

beforeAll(async () => {
  memcached = await startMemcachedCluster(1);
});

afterAll(async () => {
  for (const node of memcached?.nodes ?? []) if (node.running) node.resume();
  await Promise.all(buses.map((b) => b.close()));
  await memcached?.stop();
  await deleteRabbitObjects({
    queues: buses.flatMap((b) => [b.topology.queue, b.topology.parkingQueue]),
    exchanges: buses.flatMap((b) => [b.exchange, b.topology.deadLetterExchange]),
  });
});

async function value(registry: Registry, name: string): Promise<number> {
  return ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('a consumer whose purge does not reach memcached', () => {
  it('is redelivered by the broker until the node answers, and acked only then', async () => {
    const [node] = memcached.nodes as [(typeof memcached.nodes)[number]];
    // Never ejected: the node is slow, not known down, so the purge must wait for it. The op
    // timeout fails purges on the paused node (a fault the test owns) and is far above what the
    // node needs before and after the pause on a loaded machine.
    const cluster = new CacheCluster({
      servers: memcached.servers,
      opTimeoutMs: 1_000,
      ejectAfterFailures: 1_000_000,
    });
    const cache = new Cache({ cluster });
    const key = `confirm:${randomUUID()}`;
    await cluster.set(key, Buffer.from('old'), 300);

    const registry = new Registry();
    const bus = new InvalidationBus({
      url: rabbitUrl(),
      service: 'order',
      exchange: uniqueName('confirm-ex'),
      queue: uniqueName('confirm-q'),
      bindings: ['#'],
      retryDelayMs: 20,
      retryMaxDelayMs: 200,
      deliveryLimit: 1000,
      metrics: createPromCacheMetrics(registry),
    });
    buses.push(bus);
    let attempts = 0;
    bus.subscribe(async () => {
      attempts += 1;
      await cache.invalidate(key, { confirm: true });
    });
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    const publisher = new InvalidationBus({ url: rabbitUrl(), service: 'catalog', exchange: bus.exchange });
    buses.push(publisher);
    await publisher.start();
    await publisher.waitUntilConnected();

    node.pause();
    await publisher.publish(
      createInvalidationEvent({ source: 'catalog', entity: 'product', action: 'updated', entityId: '1' }),
    );
    await waitFor(() => attempts >= 3, { message: 'three failed purges' });
    expect(await value(registry, 'invalidations_consumed_total')).toBe(0);
    node.resume();
    await waitFor(async () => (await value(registry, 'invalidations_consumed_total')) === 1, {
      message: 'the purge once the node answers',
    });
    expect(await cluster.get(key)).toBeNull();
    expect(await value(registry, 'invalidations_failed_total')).toBe(attempts - 1);
    expect(await new ParkedInvalidations({ url: rabbitUrl(), topology: bus.topology }).count()).toBe(0);
    await cache.close();
    await cluster.close();
  });
});
