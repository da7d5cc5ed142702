import { randomUUID } from 'node:crypto';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import {
  deleteRabbitObjects,
  rabbitUrl,
  startTcpProxy,
  uniqueName,
  waitFor,
  type TcpProxy,
} from '@memshop/testing';
import { InvalidationBusUnavailableError, InvalidationUnroutableError } from '../src/errors.js';
import { InvalidationBus } from '../src/invalidation-bus.js';
import { createInvalidationEvent, type InvalidationEvent } from '../src/invalidation-event.js';
import { invalidationTopology } from '../src/invalidation-topology.js';
import { ParkedInvalidations } from '../src/parked-invalidations.js';
import { createPromCacheMetrics } from '../src/metrics.js';

jest.setTimeout(60_000);

const exchanges: string[] = [];
const queues: string[] = [];
const buses: InvalidationBus[] = [];
const proxies: TcpProxy[] = [];

function names(): { exchange: string; queue: string } {
  const exchange = uniqueName('inv-ex');
  const queue = uniqueName('inv-q');
  const t = invalidationTopology({ exchange, queue });
  exchanges.push(exchange, t.deadLetterExchange);
  queues.push(queue, t.parkingQueue);
  return { exchange, queue };
}

function newBus(opts: BusOptions): InvalidationBus {
  const bus = new InvalidationBus({ reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 500, ...opts });
  buses.push(bus);
  return bus;
}

type BusOptions = ConstructorParameters<typeof InvalidationBus>[0];

/**
 * A consumer (order-service, bound to every event) running `handler`, and a publisher (catalog)
 * on the same exchange, both connected.
 */
async function connectedPair(
  handler: Parameters<InvalidationBus['subscribe']>[0],
  consumerOptions: Partial<BusOptions> = {},
): Promise<{ consumer: InvalidationBus; publisher: InvalidationBus }> {
  const { exchange, queue } = names();
  const consumer = newBus({
    url: rabbitUrl(),
    service: 'order',
    exchange,
    queue,
    bindings: ['#'],
    ...consumerOptions,
  });
  consumer.subscribe(handler);
  await consumer.start();
  await consumer.waitUntilConnected();
  const publisher = newBus({ url: rabbitUrl(), service: 'catalog', exchange });
  await publisher.start();
  await publisher.waitUntilConnected();
  return { consumer, publisher };
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

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await Promise.all(proxies.map((p) => p.close()));
  await deleteRabbitObjects({ queues, exchanges });
});

describe('InvalidationBus against real RabbitMQ', () => {
  it('publishes with confirms and consumes every event once', async () => {
    const { exchange, queue } = names();
    const registry = new Registry();
    const metrics = createPromCacheMetrics(registry);
    const received: InvalidationEvent[] = [];
    const consumer = newBus({
      url: rabbitUrl(),
      service: 'order',
      exchange,
      queue,
      bindings: ['catalog.product.*'],
      metrics,
    });
    consumer.subscribe(async (e) => {
      received.push(e);
    });
    await consumer.start();
    expect(await consumer.waitUntilConnected()).toBe(true);
    const publisher = newBus({ url: rabbitUrl(), service: 'catalog', exchange, metrics });
    await publisher.start();
    expect(await publisher.waitUntilConnected()).toBe(true);

    const sent = Array.from({ length: 20 }, () => event());
    await Promise.all(sent.map((e) => publisher.publish(e)));
    // Not bound: routed nowhere, so the broker returns it (mandatory) and the publish fails.
    await expect(publisher.publish(event({ entity: 'category' }))).rejects.toBeInstanceOf(
      InvalidationUnroutableError,
    );
    await waitFor(() => received.length >= 20, { message: '20 consumed events' });

    expect(received.map((e) => e.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(await counter(registry, 'invalidations_published_total', { entity: 'product' })).toBe(20);
    expect(await counter(registry, 'invalidations_consumed_total', { entity: 'product' })).toBe(20);
    expect(await counter(registry, 'invalidations_failed_total', { stage: 'consume' })).toBe(0);
  });

  it('skips a redelivered event id (idempotent consumer)', async () => {
    const handled: string[] = [];
    const { publisher } = await connectedPair(async (e) => {
      handled.push(e.id);
    });
    const once = event();
    const marker = event();
    await publisher.publish(once);
    await publisher.publish(once);
    await publisher.publish(marker);
    await waitFor(() => handled.includes(marker.id), { message: 'the marker event' });
    expect(handled.filter((id) => id === once.id)).toHaveLength(1);
  });

  it('skips a copy delivered while the first is still being handled', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const once = event();
    const { publisher } = await connectedPair(async (e) => {
      started.push(e.id);
      if (e.id === once.id) await gate;
    });
    const marker = event();
    await publisher.publish(once);
    await publisher.publish(once);
    await publisher.publish(marker);
    // Deliveries arrive in order, so both copies are in the consumer while the first one waits.
    await waitFor(() => started.includes(marker.id), { message: 'the marker event' });
    release();
    const after = event();
    await publisher.publish(after);
    await waitFor(() => started.includes(after.id), { message: 'the event after the release' });
    expect(started.filter((id) => id === once.id)).toHaveLength(1);
  });

  it('retries failed events through the broker and parks one at the delivery limit, with its error', async () => {
    const registry = new Registry();
    const attempts = new Map<string, number>();
    const flaky = event();
    const poison = event();
    const { consumer, publisher } = await connectedPair(
      async (e) => {
        const n = (attempts.get(e.id) ?? 0) + 1;
        attempts.set(e.id, n);
        if (e.id === poison.id || n < 3) throw new Error(`handler failed (${n})`);
      },
      { deliveryLimit: 2, retryDelayMs: 5, metrics: createPromCacheMetrics(registry) },
    );
    await publisher.publish(flaky);
    await publisher.publish(poison);

    await waitFor(
      async () => (await counter(registry, 'invalidations_failed_total', { stage: 'consume' })) === 5,
      {
        message: '5 handler failures',
      },
    );
    await waitFor(async () => (await counter(registry, 'invalidations_consumed_total', {})) === 1, {
      message: 'the flaky event handled',
    });
    expect(attempts.get(flaky.id)).toBe(3);
    expect(attempts.get(poison.id)).toBe(3);
    const connection = await amqp.connect(rabbitUrl());
    try {
      const channel = await connection.createChannel();
      await waitFor(async () => (await channel.checkQueue(consumer.topology.queue)).messageCount === 0, {
        message: 'an empty queue',
      });
    } finally {
      await connection.close();
    }
    const parked = await new ParkedInvalidations({ url: rabbitUrl(), topology: consumer.topology }).list();
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      reason: 'handler_failed',
      detail: 'handler failed (3)',
      routingKey: 'catalog.product.updated',
      messageId: poison.id,
    });
    expect(await counter(registry, 'invalidations_parked_total', { reason: 'handler_failed' })).toBe(1);
  });

  it('starts without throwing while the broker is unreachable, and refuses to publish', async () => {
    const bus = newBus({ url: 'amqp://guest:guest@127.0.0.1:1', service: 'order', exchange: 'unused' });
    await expect(bus.start()).resolves.toBeUndefined();
    expect(bus.connected).toBe(false);
    expect(typeof bus.disconnectedSince).toBe('number');
    await expect(bus.publish(event())).rejects.toBeInstanceOf(InvalidationBusUnavailableError);
    await bus.close();
  });

  it('reports the gap while cut off, reconnects, and receives what was published meanwhile (durable queue)', async () => {
    const { exchange, queue } = names();
    const broker = new URL(rabbitUrl());
    const proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    proxies.push(proxy);
    const viaProxy = new URL(rabbitUrl());
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    const received = new Set<string>();
    const changes: boolean[] = [];
    const consumer = newBus({ url: viaProxy.toString(), service: 'order', exchange, queue, bindings: ['#'] });
    consumer.subscribe(async (e) => {
      received.add(e.id);
    });
    consumer.onConnectionChange((up) => changes.push(up));
    await consumer.start();
    expect(await consumer.waitUntilConnected()).toBe(true);
    const publisher = newBus({ url: rabbitUrl(), service: 'catalog', exchange });
    await publisher.start();
    await publisher.waitUntilConnected();

    proxy.cut();
    await waitFor(() => !consumer.connected, { message: 'the consumer to notice the cut' });
    expect(consumer.disconnectedSince).not.toBeNull();
    const whileAway = Array.from({ length: 50 }, () => event());
    for (const e of whileAway) await publisher.publish(e);
    proxy.restore();
    await waitFor(() => consumer.connected, { message: 'the consumer to reconnect', timeoutMs: 20_000 });
    expect(consumer.disconnectedSince).toBeNull();
    await waitFor(() => whileAway.every((e) => received.has(e.id)), {
      message: 'the events published while away',
    });
    expect(changes).toEqual([true, false, true]);
  });

  it('carries the trace context from the write to the consumer span', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const { exchange, queue } = names();
    let consumed: InvalidationEvent | undefined;
    const consumer = newBus({ url: rabbitUrl(), service: 'order', exchange, queue, bindings: ['#'], tracer });
    consumer.subscribe(async (e) => {
      consumed = e;
    });
    await consumer.start();
    await consumer.waitUntilConnected();
    const publisher = newBus({ url: rabbitUrl(), service: 'catalog', exchange, tracer });
    await publisher.start();
    await publisher.waitUntilConnected();

    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await publisher.publish(event({ headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } }));
    await waitFor(() => consumed, { message: 'the traced event' });
    await waitFor(() => exporter.getFinishedSpans().some((s) => s.name === 'invalidation.consume'));
    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === 'invalidation.publish');
    const consume = spans.find((s) => s.name === 'invalidation.consume');
    expect(publish?.spanContext().traceId).toBe(traceId);
    expect(consume?.spanContext().traceId).toBe(traceId);
    expect(consume?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    await provider.shutdown();
  });
});
