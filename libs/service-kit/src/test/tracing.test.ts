import path from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { Router } from 'express';
import request from 'supertest';
import { createLogger } from '../logger';
import { createServiceMetrics } from '../metrics';
import { createServiceApp } from '../service-app';
import { recordThreadSpans, type ThreadSpan } from '../thread-tracing';
import { setupTracing, traceHeaders, type Tracing } from '../tracing';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;

beforeAll(() => {
  tracing = setupTracing({ serviceName: 'test', spanExporter: exporter });
});

afterAll(async () => {
  await tracing.shutdown();
});

it('continues the caller trace, names the span by route, and puts the trace id in logs and outgoing headers', async () => {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  });
  const router = Router();
  router.post('/things/:id', async (req, res) => {
    await new Promise((r) => setTimeout(r, 1));
    logger.info('inside');
    res.json({ outgoing: traceHeaders(), body: req.body });
  });
  const app = createServiceApp({
    logger,
    metrics: createServiceMetrics('test', { defaultMetrics: false }),
    health: { checks: {} },
    routers: [router],
  });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await request(app)
    .post('/things/7')
    .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
    .send({ a: 1 })
    .expect(200);
  expect(res.body.body).toEqual({ a: 1 });
  expect(res.body.outgoing.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  const span = exporter.getFinishedSpans().find((s) => s.name === 'POST /things/:id');
  expect(span?.spanContext().traceId).toBe(traceId);
  expect(span?.attributes['http.response.status_code']).toBe(200);
  expect(JSON.parse(lines.find((l) => l.includes('inside'))!).trace_id).toBe(traceId);
});

/** In a real worker thread: forwardThreadSpans, then one PRODUCER span under a remote parent with a tracestate. */
const workerScript = `
  require('tsx/cjs');
  const { parentPort } = require('node:worker_threads');
  const api = require('@opentelemetry/api');
  const { TraceState } = require('@opentelemetry/core');
  const { forwardThreadSpans } = require(${JSON.stringify(path.join(__dirname, '..', 'thread-tracing.ts'))});
  forwardThreadSpans((spans) => parentPort.postMessage(spans));
  const parent = api.trace.setSpanContext(api.context.active(), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
    traceState: new TraceState('vendor=a1'),
  });
  const span = api.trace.getTracer('thread').startSpan('invalidation.publish', { kind: api.SpanKind.PRODUCER, attributes: { n: 1 } }, parent);
  span.end();
`;

it("records a worker thread's spans as this thread's own: same ids, parent and tracestate", async () => {
  const worker = new Worker(workerScript, { eval: true });
  const spans = await new Promise<ThreadSpan[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();

  exporter.reset();
  recordThreadSpans(spans);
  const [span] = exporter.getFinishedSpans();
  expect(span).toBeDefined();
  expect({
    name: span!.name,
    traceId: span!.spanContext().traceId,
    spanId: span!.spanContext().spanId,
    parentSpanId: span!.parentSpanContext?.spanId,
    // Exporters serialize it: a TraceState that crossed threads must still be one.
    traceState: span!.spanContext().traceState?.serialize(),
    parentTraceState: span!.parentSpanContext?.traceState?.serialize(),
    attributes: span!.attributes,
    service: span!.resource.attributes['service.name'],
  }).toEqual({
    name: 'invalidation.publish',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: spans[0]!.context.spanId,
    parentSpanId: '00f067aa0ba902b7',
    traceState: 'vendor=a1',
    parentTraceState: 'vendor=a1',
    attributes: { n: 1 },
    service: 'test',
  });
});
