import * as diagnosticsChannel from 'node:diagnostics_channel';
import {
  context,
  propagation,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/** Default prefix of the diagnostics channel names: `cache:get`, `cache:invalidation.consume`, … */
export const DEFAULT_CHANNEL_PREFIX = 'cache';

/** What each diagnostics channel carries; the channel name is `<prefix>:<suffix>`. */
const CHANNEL_SUFFIXES = {
  /** { key, namespace, status } after each getOrLoad key resolved */
  get: 'get',
  /** { key, namespace, durationMs, ok } after each loader call */
  load: 'load',
  /** { key, result } after each background write */
  populate: 'populate',
  /** { keys } after invalidate() */
  invalidate: 'invalidate',
  /** { op, key?, error } whenever a cache operation failed and was swallowed */
  error: 'error',
  /** { event, ok } after a publish was confirmed (or failed) */
  publish: 'invalidation.publish',
  /** { event, ok, duplicate } after a consumed event was handled */
  consume: 'invalidation.consume',
  /** { state: 'connected' | 'disconnected' | 'cancelled', since } when the bus connection changes */
  bus: 'invalidation.connection',
  /** { published, failed } after each relay round */
  outbox: 'outbox.relay',
} as const;

export type CacheChannelName = keyof typeof CHANNEL_SUFFIXES;

/**
 * The node:diagnostics_channel names under `prefix` (the `diagnosticsChannelPrefix` option of
 * Cache, InvalidationBus and OutboxRelay): a subscriber names the channel, so it needs the same
 * prefix the publishing units were given.
 */
export function cacheChannelNames(prefix = DEFAULT_CHANNEL_PREFIX): Record<CacheChannelName, string> {
  return Object.fromEntries(
    Object.entries(CHANNEL_SUFFIXES).map(([k, suffix]) => [k, `${prefix}:${suffix}`]),
  ) as Record<CacheChannelName, string>;
}

/** The channel names under the default prefix. */
export const CACHE_CHANNEL_NAMES = cacheChannelNames();

/** Default OpenTelemetry tracer (instrumentation scope) name. */
export const DEFAULT_TRACER_NAME = 'cache';

export interface CacheTracingOptions {
  /** Spans go to this tracer. Default: the global provider's tracer named `tracerName`. */
  tracer?: Tracer | undefined;
  /** Default 'cache'. */
  tracerName?: string | undefined;
  /** Default 'cache' (channels `cache:get`, …; see `cacheChannelNames`). */
  channelPrefix?: string | undefined;
}

/**
 * What a unit reports besides metrics: OpenTelemetry spans through `@opentelemetry/api` only
 * (without a registered SDK the tracer is a no-op, so the library adds no cost for services that
 * do not trace) and node:diagnostics_channel messages. Subscribing to a channel is opt-in and a
 * channel without subscribers costs one boolean check, so these are always on (same approach as
 * bentocache's tracing channels).
 */
export class CacheTracing {
  readonly #tracer: Tracer;
  readonly #tracerName: string;
  readonly #explicit: boolean;
  /**
   * Channel objects are weakly held by node; keeping them here keeps subscribers alive and is
   * what node's docs recommend (create once, reuse). No I/O happens.
   */
  readonly #channels: Record<CacheChannelName, diagnosticsChannel.Channel>;
  /** The resolved channel names this unit publishes on. */
  readonly channelNames: Readonly<Record<CacheChannelName, string>>;

  constructor(opts: CacheTracingOptions = {}) {
    this.#tracerName = opts.tracerName ?? DEFAULT_TRACER_NAME;
    this.#tracer = opts.tracer ?? trace.getTracer(this.#tracerName);
    this.#explicit = opts.tracer !== undefined;
    this.channelNames = cacheChannelNames(opts.channelPrefix);
    this.#channels = Object.fromEntries(
      Object.entries(this.channelNames).map(([k, name]) => [k, diagnosticsChannel.channel(name)]),
    ) as Record<CacheChannelName, diagnosticsChannel.Channel>;
  }

  publish(name: CacheChannelName, message: object): void {
    const channel = this.#channels[name];
    if (channel.hasSubscribers) channel.publish(message);
  }

  /** For hot paths: check before building the message, so nobody listening costs no allocation. */
  hasSubscribers(name: CacheChannelName): boolean {
    return this.#channels[name].hasSubscribers;
  }

  /**
   * false when spans would go nowhere: no tracer was given and no SDK is registered globally
   * (the global provider is then the API's proxy without a delegate). Hot paths skip the span
   * altogether then: even a no-op span costs a context switch and a few objects per call
   * (about 1 µs on a cache hit). Checked per call, so an SDK registered later is picked up.
   */
  get active(): boolean {
    if (this.#explicit) return true;
    const provider = trace.getTracerProvider();
    return (
      !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(this.#tracerName) !== undefined
    );
  }

  /** Runs `fn` inside an active span; exceptions are recorded on the span and rethrown. */
  async span<T>(
    name: string,
    attributes: Attributes,
    fn: (span: Span) => Promise<T>,
    options: { kind?: SpanKind | undefined; parent?: Context | undefined } = {},
  ): Promise<T> {
    const parent = options.parent ?? context.active();
    return this.#tracer.startActiveSpan(
      name,
      { kind: options.kind ?? SpanKind.INTERNAL, attributes },
      parent,
      async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err instanceof Error ? err : String(err));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: err instanceof Error ? err.message : String(err),
          });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }
}

/** W3C trace context (traceparent/tracestate) of the active context, for message headers. */
export function injectTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context carried by message headers (AMQP header values may arrive as Buffers). */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (typeof v === 'string') carrier[k] = v;
    else if (Buffer.isBuffer(v)) carrier[k] = v.toString('utf8');
  }
  return propagation.extract(context.active(), carrier);
}
