import {
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { RequestHandler } from 'express';
import { routeLabel } from './metrics';
import { rememberThreadSpanProcessors } from './thread-tracing';

export type TracesExporter = 'none' | 'console' | 'otlp';

export interface TracingOptions {
  serviceName: string;
  serviceInstanceId?: string;
  /** OTEL_TRACES_EXPORTER; `none` (the default) registers no SDK, so spans cost nothing. */
  exporter?: TracesExporter;
  /** OTEL_EXPORTER_OTLP_ENDPOINT, the base URL; `/v1/traces` is appended. */
  otlpEndpoint?: string;
  /** Tests: export to this (e.g. an InMemorySpanExporter) synchronously, whatever `exporter` says. */
  spanExporter?: SpanExporter;
}

export interface Tracing {
  enabled: boolean;
  /** Flushes pending spans and unregisters the global SDK (so a test can register another). */
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK globally: W3C `traceparent` propagation and an
 * AsyncLocalStorage context manager. Call once, first thing in main.ts.
 */
export function setupTracing(opts: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [];
  if (opts.spanExporter) processors.push(new SimpleSpanProcessor(opts.spanExporter));
  else if (opts.exporter === 'console') processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  else if (opts.exporter === 'otlp') {
    const url = opts.otlpEndpoint ? `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces` : undefined;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {})));
  }
  if (processors.length === 0) return { enabled: false, shutdown: async () => {} };

  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    ...(opts.serviceInstanceId ? { 'service.instance.id': opts.serviceInstanceId } : {}),
  });
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  // Spans a worker thread records (thread-tracing.ts) go to the same processors.
  rememberThreadSpanProcessors({ processors, resource });
  return {
    enabled: true,
    async shutdown() {
      rememberThreadSpanProcessors(null);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

const TRACER_NAME = '@memshop/service-kit';

/**
 * The registered SDK's tracer, or undefined without one. The API's global provider is a proxy
 * that hands out tracers of the SDK registered behind it; with none behind it, each
 * `getTracer` builds a proxy tracer and each span a no-op span, which a hot path pays for on
 * every request for nothing.
 */
function sdkTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider
    ? provider.getDelegateTracer(TRACER_NAME)
    : provider.getTracer(TRACER_NAME);
}

/**
 * A SERVER span per request, continuing the caller's trace from `traceparent`. Mount it after
 * the body parser: body-parser resumes from stream events, which would drop the active context.
 * Without an SDK registered the request goes on at once: no span, no finish listener, no
 * context switch, so an untraced service pays one check per request.
 */
export function httpTracingMiddleware(): RequestHandler {
  return (req, res, next) => {
    const serverTracer = sdkTracer();
    if (!serverTracer) {
      next();
      return;
    }
    const parent = propagation.extract(context.active(), req.headers);
    const span = serverTracer.startSpan(
      `${req.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path },
      },
      parent,
    );
    // A sampled-out span of a registered SDK still carries its trace downstream: only a span
    // with neither recording nor a valid context is dropped here.
    if (!span.isRecording() && !isSpanContextValid(span.spanContext())) {
      next();
      return;
    }
    res.once('finish', () => {
      const route = routeLabel(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Headers that carry the active trace to another service (`traceparent`); empty without an SDK. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
