import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { deleteRabbitObjects, rabbitUrl, uniqueName, waitFor } from '@memshop/testing';
import { InvalidationBus } from '../src/invalidation-bus.js';
import {
  createInvalidationEvent,
  invalidationRoutingKey,
  type InvalidationEvent,
} from '../src/invalidation-event.js';
import {
  invalidationTopology,
  legacyInvalidationQueue,
  parkingQueueArguments,
} from '../src/invalidation-topology.js';
import { createPromCacheMetrics } from '../src/metrics.js';
import { ParkedInvalidations } from '../src/parked-invalidations.js';

jest.setTimeout(60_000);

const exchanges: string[] = [];
const queues: string[] = [];
const buses: InvalidationBus[] = [];
let connection: amqp.ChannelModel;

beforeAll(async () => {
  connection = await amqp.connect(rabbitUrl());
  connection.on('error', () => undefined);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await connection.close().catch(() => undefined);
  await deleteRabbitObjects({ queues, exchanges });
});

function consumerBus(opts: Partial<ConstructorParameters<typeof InvalidationBus>[0]> & { service?: string }) {
  const exchange = opts.exchange ?? uniqueName('inv-ex');
  const bus = new InvalidationBus({
    url: rabbitUrl(),
    service: opts.service ?? 'order',
    exchange,
    bindings: ['#'],
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 500,
    retryDelayMs: 5,
    ...opts,
  });
  const t = bus.topology;
  exchanges.push(t.exchange, t.deadLetterExchange);
  queues.push(t.queue, t.parkingQueue);
  buses.push(bus);
  return bus;
}

function event(overrides: Partial<InvalidationEvent> = {}): InvalidationEvent {
  return createInvalidationEvent({
    source: 'catalog',
    entity: 'product',
    action: 'updated',
    entityId: randomUUID(),
    ...overrides,
  });
}

/** Publishes raw bytes the way a broken producer would (confirmed, so the test knows it is queued). */
async function publishRaw(exchange: string, routingKey: string, content: Buffer): Promise<void> {
  const channel = await connection.createConfirmChannel();
  try {
    channel.publish(exchange, routingKey, content, { persistent: true });
    await channel.waitForConfirms();
  } finally {
    await channel.close();
  }
}

async function queueInfo(name: string): Promise<{ messageCount: number; consumerCount: number } | null> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const ok = await channel.checkQueue(name);
    await channel.close();
    return ok;
  } catch {
    return null;
  }
}

describe('InvalidationBus failures against real RabbitMQ', () => {
  it('declares a quorum queue with a delivery limit that dead-letters into its parking queue', async () => {
    const bus = consumerBus({ queue: uniqueName('inv-q'), deliveryLimit: 7 });
    bus.subscribe(async () => undefined);
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    const t = bus.topology;
    // A redeclare with the same arguments succeeds; any other would be refused (406).
    const channel = await connection.createChannel();
    await channel.assertQueue(t.queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 7,
        'x-dead-letter-exchange': t.deadLetterExchange,
        'x-dead-letter-routing-key': t.queue,
      },
    });
    // The parking queue sets its own limit: RabbitMQ 4.x would give it 20 and drop what it held.
    await channel.assertQueue(t.parkingQueue, { durable: true, arguments: parkingQueueArguments() });
    await channel.close();
    expect(await queueInfo(t.parkingQueue)).toMatchObject({ messageCount: 0, consumerCount: 0 });
  });

  it('keeps a parking queue an earlier version declared without a delivery limit instead of failing on it', async () => {
    const queue = uniqueName('inv-q');
    const t = invalidationTopology({ exchange: uniqueName('inv-ex'), queue });
    const channel = await connection.createChannel();
    await channel.assertQueue(t.parkingQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.close();
    const bus = consumerBus({ exchange: t.exchange, queue });
    bus.subscribe(async () => undefined);
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    await publishRaw(bus.exchange, 'catalog.product.updated', Buffer.from('not json {'));
    const parking = new ParkedInvalidations({ url: rabbitUrl(), topology: bus.topology });
    await waitFor(async () => (await parking.count()) === 1, { message: 'parked in the existing queue' });
    expect((await parking.list())[0]).toMatchObject({ reason: 'malformed' });
  });

  it('parks messages delivered the moment the consumer subscribes, through its own publish', async () => {
    const queue = uniqueName('inv-q');
    const exchange = uniqueName('inv-ex');
    // A first bus declares the queue and its binding; the poison waits in it for the second.
    const first = consumerBus({ exchange, queue });
    first.subscribe(async () => undefined);
    await first.start();
    expect(await first.waitUntilConnected()).toBe(true);
    await first.close();
    const poisons = 20;
    for (let i = 0; i < poisons; i += 1) {
      await publishRaw(exchange, 'catalog.product.updated', Buffer.from(`not json ${i} {`));
    }
    const bus = consumerBus({ exchange, queue });
    bus.subscribe(async () => undefined);
    await bus.start();
    const parking = new ParkedInvalidations({ url: rabbitUrl(), topology: bus.topology });
    await waitFor(async () => (await parking.count()) === poisons, { message: 'every poison parked' });
    // `malformed` only when the bus parked it itself; a park without a publish channel would
    // have fallen back to the broker's dead-lettering (`rejected`).
    expect((await parking.list()).map((p) => p.reason)).toEqual(Array(poisons).fill('malformed'));
  });

  it('parks poison messages on every routing key with their reason and goes on with the next valid event', async () => {
    const registry = new Registry();
    const handled: string[] = [];
    const bus = consumerBus({ queue: uniqueName('inv-q'), metrics: createPromCacheMetrics(registry) });
    bus.subscribe(async (e) => {
      handled.push(e.id);
    });
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    const routingKeys = ['catalog.product.updated', 'catalog.stock.updated', 'user.user.deleted'];
    const poisons = [
      { body: Buffer.from('not json {'), reason: 'malformed', detail: 'not JSON' },
      {
        body: Buffer.from(JSON.stringify({ id: 'x', source: 'catalog' })),
        reason: 'malformed',
        detail: 'field entity is not a non-empty string',
      },
      { body: Buffer.alloc(1024 * 1024, 0x7b), reason: 'too_large', detail: '1048576 bytes, limit 65536' },
    ];
    for (const routingKey of routingKeys) {
      for (const poison of poisons) await publishRaw(bus.exchange, routingKey, poison.body);
    }
    const valid = event();
    await publishRaw(bus.exchange, invalidationRoutingKey(valid), Buffer.from(JSON.stringify(valid)));

    await waitFor(() => handled.includes(valid.id), { message: 'the valid event after the poison' });
    const parking = new ParkedInvalidations({ url: rabbitUrl(), topology: bus.topology });
    await waitFor(async () => (await parking.count()) === 9, { message: '9 parked messages' });
    const parked = await parking.list();
    expect(parked).toHaveLength(9);
    for (const routingKey of routingKeys) {
      const ofKey = parked.filter((p) => p.routingKey === routingKey);
      expect(ofKey.map((p) => ({ reason: p.reason, detail: p.detail })).sort(byDetail)).toEqual(
        poisons.map((p) => ({ reason: p.reason, detail: p.detail })).sort(byDetail),
      );
    }
    expect(bus.connected).toBe(true);
    expect(handled).toEqual([valid.id]);
    expect(await queueInfo(bus.queue)).toMatchObject({ messageCount: 0, consumerCount: 1 });
    const parkedCount = (await registry.getSingleMetric('memshop_invalidations_parked_total')?.get())?.values;
    expect(Object.fromEntries((parkedCount ?? []).map((v) => [v.labels.reason, v.value]))).toEqual({
      malformed: 6,
      too_large: 3,
    });

    // Replay puts them back on their routing keys (where they are parked again: still poison).
    expect(await parking.replay()).toEqual({ replayed: 9, kept: 0 });
    await waitFor(async () => (await parking.count()) === 9, {
      message: 'the replayed poison parked again',
    });
  });

  it('rebuilds a deleted queue, its bindings and its consumer, and reports the gap meanwhile', async () => {
    const handled = new Set<string>();
    const changes: boolean[] = [];
    const bus = consumerBus({ queue: uniqueName('inv-q'), bindings: ['catalog.product.*'] });
    bus.subscribe(async (e) => {
      handled.add(e.id);
    });
    bus.onConnectionChange((up) => changes.push(up));
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);

    const channel = await connection.createChannel();
    await channel.deleteQueue(bus.queue);
    await channel.close();
    await waitFor(() => changes.length >= 2, { message: 'the cancel noticed as a disconnect' });
    await waitFor(() => bus.connected, { message: 'the subscription rebuilt', timeoutMs: 20_000 });
    expect(changes).toEqual([true, false, true]);
    expect(await queueInfo(bus.queue)).toMatchObject({ consumerCount: 1 });

    const after = event();
    await publishRaw(bus.exchange, invalidationRoutingKey(after), Buffer.from(JSON.stringify(after)));
    await waitFor(() => handled.has(after.id), { message: 'an event through the rebuilt binding' });
  });

  it('retires the classic queue an earlier version declared under the default name', async () => {
    const service = `svc${randomUUID().slice(0, 8)}`;
    const legacy = legacyInvalidationQueue(service);
    queues.push(legacy);
    const exchange = uniqueName('inv-ex');
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(legacy, { durable: true });
    await channel.bindQueue(legacy, exchange, '#');
    await channel.close();

    const handled: string[] = [];
    const bus = consumerBus({ service, exchange, queue: undefined });
    bus.subscribe(async (e) => {
      handled.push(e.id);
    });
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    expect(bus.queue).toBe(`memshop.${service}.invalidation.quorum`);
    expect(await queueInfo(legacy)).toBeNull();
    const e = event();
    await publishRaw(exchange, invalidationRoutingKey(e), Buffer.from(JSON.stringify(e)));
    await waitFor(() => handled.includes(e.id), { message: 'the event on the quorum queue' });
  });

  it('dead-letters through the broker at the delivery limit when the consumer never settles (backstop)', async () => {
    const queue = uniqueName('inv-q');
    const t = invalidationTopology({ exchange: uniqueName('inv-ex'), queue, deliveryLimit: 1 });
    // Declared by a bus that consumes nothing, so the test drives deliveries by hand.
    const bus = consumerBus({ exchange: t.exchange, queue, deliveryLimit: 1 });
    bus.subscribe(async () => {
      throw new Error('never reached: the bus is closed before anything is published');
    });
    await bus.start();
    expect(await bus.waitUntilConnected()).toBe(true);
    await bus.close();
    const e = event();
    await publishRaw(t.exchange, invalidationRoutingKey(e), Buffer.from(JSON.stringify(e)));
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const channel = await connection.createChannel();
      await waitFor(async () => (await channel.get(queue, { noAck: false })) || undefined, {
        message: `delivery ${delivery + 1}`,
      });
      // Closed with the delivery unsettled, as a crashed consumer leaves it: every RabbitMQ
      // version counts that return against the limit (4.3 no longer counts a plain nack).
      await channel.close();
    }
    const parking = new ParkedInvalidations({ url: rabbitUrl(), topology: t });
    await waitFor(async () => (await parking.count()) === 1, { message: 'the broker to park it' });
    const [parked] = await parking.list();
    expect(parked).toMatchObject({
      reason: 'delivery_limit',
      routingKey: 'catalog.product.updated',
      messageId: undefined,
    });
  });
});

function byDetail(a: { detail?: string }, b: { detail?: string }): number {
  return String(a.detail).localeCompare(String(b.detail));
}
