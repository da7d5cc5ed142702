/**
 * A write's trace continues in the service that purges its cache. One OpenTelemetry
 * SDK (service-kit's setupTracing with an in-memory exporter) sees the spans of catalog, user and
 * order running in this process; trace context has to cross real HTTP connections and real
 * RabbitMQ messages (through catalog's outbox) to join them.
 */
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type Tracing } from '@memshop/service-kit';
import { bearer, waitFor } from '@memshop/testing';
import { startInProcessServices, type InProcessServices } from './observability-services';

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let services: InProcessServices | undefined;

beforeAll(async () => {
  tracing = setupTracing({ serviceName: 'memshop-e2e', spanExporter: exporter });
  services = await startInProcessServices({ products: 10, users: 5 });
}, 120_000);

afterAll(async () => {
  try {
    await services?.close();
  } finally {
    await tracing?.shutdown();
  }
}, 60_000);

beforeEach(() => exporter.reset());

const spans = () => exporter.getFinishedSpans();
const traceId = (s: ReadableSpan) => s.spanContext().traceId;
const parentId = (s: ReadableSpan) => s.parentSpanContext?.spanId;

function serverSpan(name: string): ReadableSpan | undefined {
  return spans().find((s) => s.kind === SpanKind.SERVER && s.name === name);
}

/** The order-service consumer's span for the event published in trace `trace`. */
function orderConsumeSpan(trace: string): ReadableSpan | undefined {
  return spans().find(
    (s) =>
      s.name === 'invalidation.consume' &&
      s.attributes['messaging.destination.name'] === services!.order.queue &&
      traceId(s) === trace,
  );
}

async function patchProduct(id: number, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${services!.catalog.url}/products/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...bearer(await services!.auth.adminToken()), ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('PATCH /products/:id on catalog', () => {
  it("continues in order-service's RabbitMQ consumer with the same trace id", async () => {
    expect(await patchProduct(3, { priceCents: 4321 })).toBe(200);

    const server = await waitFor(() => serverSpan('PATCH /products/:id'), {
      timeoutMs: 30_000,
      message: 'PATCH server span',
    });
    expect(parentId(server)).toBeUndefined(); // the trace starts here
    const consume = await waitFor(() => orderConsumeSpan(traceId(server)), {
      timeoutMs: 30_000,
      message: `order-service consume span in trace ${traceId(server)}`,
    });

    // Every hop in between is in the same trace: outbox -> publish (PRODUCER) -> consume (CONSUMER).
    const publish = spans().find(
      (s) =>
        s.name === 'invalidation.publish' &&
        s.attributes['messaging.rabbitmq.destination.routing_key'] === 'catalog.product.updated',
    );
    expect(publish).toBeDefined();
    expect({
      publishTrace: traceId(publish!),
      publishKind: publish!.kind,
      consumeKind: consume.kind,
      consumeParent: parentId(consume),
      messageId: consume.attributes['messaging.message.id'],
    }).toEqual({
      publishTrace: traceId(server),
      publishKind: SpanKind.PRODUCER,
      consumeKind: SpanKind.CONSUMER,
      consumeParent: publish!.spanContext().spanId,
      messageId: publish!.attributes['messaging.message.id'],
    });
  });

  it("continues the caller's trace from its traceparent header all the way to the consumer", async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    expect(
      await patchProduct(
        4,
        { name: 'Traced product' },
        { traceparent: `00-${callerTrace}-${callerSpan}-01` },
      ),
    ).toBe(200);

    const server = await waitFor(() => serverSpan('PATCH /products/:id'), {
      timeoutMs: 30_000,
      message: 'PATCH server span',
    });
    expect({ trace: traceId(server), parent: parentId(server) }).toEqual({
      trace: callerTrace,
      parent: callerSpan,
    });
    await waitFor(() => orderConsumeSpan(callerTrace), {
      timeoutMs: 30_000,
      message: `order-service consume span in trace ${callerTrace}`,
    });
  });
});

describe('HTTP hops and cache spans', () => {
  it('POST /orders on order-service continues in catalog (stock) and user with the same trace id', async () => {
    const response = await fetch(`${services!.order.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(await services!.auth.userToken(2)) },
      body: JSON.stringify({ userId: 2, items: [{ productId: 5, quantity: 1 }] }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(201);

    const order = await waitFor(() => serverSpan('POST /orders'), {
      timeoutMs: 30_000,
      message: 'POST /orders server span',
    });
    const reservation = await waitFor(() => serverSpan('POST /stock/reservations'), {
      message: 'catalog stock reservation server span',
    });
    const userRead = await waitFor(() => serverSpan('GET /users/:id'), { message: 'user server span' });
    expect([traceId(reservation), traceId(userRead)]).toEqual([traceId(order), traceId(order)]);
  });

  it('records cache.get spans with cache.hit (miss, then hit) and a cache.load span inside the request', async () => {
    const url = `${services!.catalog.url}/products/6`;
    expect((await fetch(url)).headers.get('x-cache')).toBe('miss');
    await services!.catalog.cache.drain();
    expect((await fetch(url)).headers.get('x-cache')).toBe('hit');

    const servers = spans().filter((s) => s.kind === SpanKind.SERVER && s.name === 'GET /products/:id');
    expect(servers).toHaveLength(2);
    const cacheGets = servers.map((server) =>
      spans().filter((s) => s.name === 'cache.get' && traceId(s) === traceId(server)),
    );
    expect(cacheGets.map((gets) => gets.map((g) => g.attributes['cache.hit']))).toEqual([[false], [true]]);
    const loads = servers.map(
      (server) => spans().filter((s) => s.name === 'cache.load' && traceId(s) === traceId(server)).length,
    );
    expect(loads).toEqual([1, 0]);
    expect(parentId(cacheGets[0]![0]!)).toBeDefined();
  });
});

describe('structured logs', () => {
  it("carry the active request's trace id (a corrupt cache entry logged during GET /products/:id)", async () => {
    const { catalog } = services!;
    const raw = catalog.cluster;
    const key = catalog.catalogCache.productKey(8);
    expect(await raw.set(key, Buffer.from('not json'), 60)).toBe(true);
    const linesBefore = services!.logs.length;
    const response = await fetch(`${catalog.url}/products/8`);
    expect([response.status, response.headers.get('x-cache')]).toEqual([200, 'miss']);

    const server = await waitFor(() => serverSpan('GET /products/:id'), {
      timeoutMs: 30_000,
      message: 'GET server span',
    });
    const logged = services!.logs
      .slice(linesBefore)
      .map((line) => JSON.parse(line) as { service?: string; msg?: string; trace_id?: string })
      .find((l) => l.service === 'catalog' && l.msg?.startsWith('cached entry'));
    expect(logged).toBeDefined();
    expect(logged!.trace_id).toBe(traceId(server));
  });
});
