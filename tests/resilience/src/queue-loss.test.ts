/**
 * order-service's invalidation queue deleted while the service runs (an operator's
 * `rabbitmqctl delete_queue`, a lost quorum): the consumer notices the broker's cancel, the
 * queue comes back with its bindings and consumer without a restart, and nothing cached before
 * the loss is served as fresh, since its purge may have gone nowhere.
 */
import amqp from 'amqplib';
import request from 'supertest';
import { rabbitUrl, waitFor } from '@memshop/testing';
import { startOrderFixture, type OrderFixture } from '../../../apps/order/src/test/order-fixture';

jest.setTimeout(120_000);

let f: OrderFixture;
let broker: amqp.ChannelModel;

beforeAll(async () => {
  f = await startOrderFixture();
  broker = await amqp.connect(rabbitUrl());
  broker.on('error', () => undefined);
}, 120_000);

afterAll(async () => {
  f?.rabbitProxy.restore();
  await broker?.close().catch(() => undefined);
  await f?.close();
});

interface CatalogProduct {
  id: number;
  priceCents: number;
  version: number;
}

async function catalogProduct(id: number): Promise<CatalogProduct> {
  return (await (await fetch(`${f.catalogUrl}/products/${id}`)).json()) as CatalogProduct;
}

async function patchPrice(id: number, priceCents: number): Promise<CatalogProduct> {
  const response = await fetch(`${f.catalogUrl}/products/${id}`, {
    method: 'PATCH',
    headers: { ...f.as.admin, 'content-type': 'application/json' },
    body: JSON.stringify({ priceCents }),
  });
  if (response.status !== 200) throw new Error(`PATCH answered ${response.status}`);
  return (await response.json()) as CatalogProduct;
}

/** An order of `productId` whose view (and product copy) order-service has cached. */
async function cachedOrderOf(productId: number, userId: number): Promise<number> {
  const placed = await request(f.service.app)
    .post('/orders')
    .set(await f.as.user(userId))
    .send({ userId, items: [{ productId, quantity: 1 }] })
    .expect(201);
  await request(f.service.app).get(`/orders/${placed.body.id}`).set(f.as.admin).expect(200);
  await f.service.cache.drain();
  const cached = await request(f.service.app).get(`/orders/${placed.body.id}`).set(f.as.admin).expect(200);
  expect(cached.headers['x-cache']).toBe('hit');
  return placed.body.id as number;
}

async function deleteQueue(name: string): Promise<void> {
  const channel = await broker.createChannel();
  await channel.deleteQueue(name);
  await channel.close();
}

async function consumersOf(name: string): Promise<number | null> {
  const channel = await broker.createChannel();
  channel.on('error', () => undefined);
  try {
    const { consumerCount } = await channel.checkQueue(name);
    await channel.close();
    return consumerCount;
  } catch {
    return null;
  }
}

/**
 * The early purge's feed, shown beside the queue: it has a connection of its own through the same
 * proxy and notices a cut and a restore on its own schedule.
 */
const feedState = expect.stringMatching(/^(connected|disconnected)$/);

describe("order-service's invalidation queue deleted under it", () => {
  it('comes back with its bindings and consumer, and purges every copy of a later write', async () => {
    const orderId = await cachedOrderOf(51, 13);
    const bus = f.service.bus;
    const changes: boolean[] = [];
    const off = bus.onConnectionChange((up) => changes.push(up));
    try {
      await deleteQueue(bus.queue);
      // The broker's cancel is a disconnect of the feed (gap rule, readiness), then a resubscribe.
      await waitFor(() => changes.length >= 2, {
        message: 'the cancel noticed and the feed back',
        timeoutMs: 20_000,
      });
    } finally {
      off();
    }
    expect(changes).toEqual([false, true]);
    await waitFor(async () => (await consumersOf(bus.queue)) === 1, { message: 'one consumer on the queue' });

    const before = await catalogProduct(51);
    const patched = await patchPrice(51, before.priceCents + 300);
    await f.waitForConsumed(
      (e) => e.entity === 'product' && e.entityId === '51' && e.version === patched.version,
      'the change event through the rebuilt binding',
    );
    const after = await request(f.service.app).get(`/orders/${orderId}`).set(f.as.admin).expect(200);
    expect(after.body.items[0].product.priceCents).toBe(patched.priceCents);
    expect((await catalogProduct(51)).priceCents).toBe(patched.priceCents);
  });

  it('serves nothing cached before the loss as fresh when a write was made while the queue was gone', async () => {
    const orderId = await cachedOrderOf(52, 14);
    const bus = f.service.bus;
    f.rabbitProxy.cut();
    await waitFor(() => !bus.connected, { message: "order's consumer to notice the cut" });
    const ready = await request(f.service.adminApp).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.rabbitmq).toEqual({
      status: 'down',
      detail: { queue: bus.queue, feed: 'disconnected', since: expect.any(String), earlyPurge: feedState },
    });

    await deleteQueue(bus.queue);
    const before = await catalogProduct(52);
    // Published while order's queue does not exist: this purge reaches nobody in order-service.
    const patched = await patchPrice(52, before.priceCents + 400);
    f.rabbitProxy.restore();
    expect(await bus.waitUntilConnected(20_000)).toBe(true);
    expect(bus.eventsLostBefore).not.toBeNull();
    expect(await consumersOf(bus.queue)).toBe(1);

    const after = await request(f.service.app).get(`/orders/${orderId}`).set(f.as.admin).expect(200);
    expect(after.body.items[0].product.priceCents).toBe(patched.priceCents);
    expect((await request(f.service.adminApp).get('/health/ready')).body.checks.rabbitmq).toEqual({
      status: 'up',
      detail: { queue: bus.queue, earlyPurge: feedState },
    });
  });
});
