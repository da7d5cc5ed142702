import type { Link, SpanContext } from '@opentelemetry/api';
import { ExportResultCode, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** A span context as it crosses threads: a TraceState would lose its methods, so it goes as text. */
type ClonedContext = Omit<SpanContext, 'traceState'> & { traceState?: string };

/** A finished span as it crosses from a worker thread to the main thread (structured-cloneable). */
export type ThreadSpan = Omit<ReadableSpan, 'spanContext' | 'parentSpanContext' | 'links' | 'resource'> & {
  context: ClonedContext;
  parentContext?: ClonedContext;
  links: Array<Omit<Link, 'context'> & { context: ClonedContext }>;
};

const cloned = ({ traceState, ...context }: SpanContext): ClonedContext => ({
  ...context,
  ...(traceState ? { traceState: traceState.serialize() } : {}),
});

const restored = ({ traceState, ...context }: ClonedContext): SpanContext => ({
  ...context,
  ...(traceState !== undefined ? { traceState: new TraceState(traceState) } : {}),
});

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
          context: cloned(span.spanContext()),
          ...(span.parentSpanContext ? { parentContext: cloned(span.parentSpanContext) } : {}),
          startTime: span.startTime,
          endTime: span.endTime,
          status: span.status,
          attributes: span.attributes,
          links: span.links.map((link) => ({ ...link, context: cloned(link.context) })),
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

/** The processors setupTracing registered in this thread (null: tracing is off). */
let registered: { processors: readonly SpanProcessor[]; resource: Resource } | null = null;

/** Called by setupTracing (and with null by its shutdown). */
export function rememberThreadSpanProcessors(
  tracing: { processors: readonly SpanProcessor[]; resource: Resource } | null,
): void {
  registered = tracing;
}

/** True when setupTracing registered an SDK in this thread, so a worker's spans have a place to go. */
export function threadSpansWanted(): boolean {
  return registered !== null;
}

/** Hands spans recorded in a worker thread to this thread's span processors, as this service's own. */
export function recordThreadSpans(spans: ThreadSpan[]): void {
  const tracing = registered;
  if (!tracing) return;
  for (const { context, parentContext, links, ...span } of spans) {
    const readable: ReadableSpan = {
      ...span,
      spanContext: () => restored(context),
      ...(parentContext ? { parentSpanContext: restored(parentContext) } : {}),
      links: links.map((link) => ({ ...link, context: restored(link.context) })),
      resource: tracing.resource,
    };
    for (const processor of tracing.processors) processor.onEnd(readable);
  }
}
