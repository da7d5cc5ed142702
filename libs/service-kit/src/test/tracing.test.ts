import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { Router } from 'express';
import request from 'supertest';
import { createLogger } from '../logger';
import { createServiceMetrics } from '../metrics';
import { createServiceApp } from '../service-app';
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
