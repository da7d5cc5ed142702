import type { SpanContext } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { registeredTracing } from './tracing';

/** A finished span as it crosses from a worker thread to the main thread (structured-cloneable). */
export type ThreadSpan = Omit<ReadableSpan, 'spanContext' | 'resource'> & { context: SpanContext };

/**
 * Registers an SDK in a worker thread whose finished spans go to `post`, for the main thread's
 * `recordThreadSpans`: one exporter configuration (setupTracing's, in the main thread) for every
 * span the service records, and the spans keep their own ids, so a consumer's span names the
 * thread's span as its parent.
 */
export function forwardThreadSpans(post: (spans: ThreadSpan[]) => void): void {
  const exporter: SpanExporter = {
    export(spans, done) {
      // Field by field: a span is a class instance whose own fields include its processor.
      post(
        spans.map((span) => ({
          name: span.name,
          kind: span.kind,
          context: span.spanContext(),
          parentSpanContext: span.parentSpanContext,
          startTime: span.startTime,
          endTime: span.endTime,
          status: span.status,
          attributes: span.attributes,
          links: span.links,
          events: span.events,
          duration: span.duration,
          ended: span.ended,
          instrumentationScope: span.instrumentationScope,
          droppedAttributesCount: span.droppedAttributesCount,
          droppedEventsCount: span.droppedEventsCount,
          droppedLinksCount: span.droppedLinksCount,
        })),
      );
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => undefined,
  };
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
}

/** True when setupTracing registered an SDK in this thread, so a worker's spans have a place to go. */
export function threadSpansWanted(): boolean {
  return registeredTracing() !== null;
}

/** Hands spans recorded in a worker thread to this thread's span processors, as this service's own. */
export function recordThreadSpans(spans: ThreadSpan[]): void {
  const tracing = registeredTracing();
  if (!tracing) return;
  for (const { context, ...span } of spans) {
    const readable: ReadableSpan = { ...span, spanContext: () => context, resource: tracing.resource };
    for (const processor of tracing.processors) processor.onEnd(readable);
  }
}
