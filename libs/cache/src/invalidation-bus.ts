import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import * as amqp from 'amqplib';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from './logger';
import { noopCacheMetrics, type CacheMetrics } from './metrics';
import { CacheTracing, extractTraceContext, injectTraceHeaders, publishDiagnostic } from './tracing';

export type InvalidationAction = 'created' | 'updated' | 'deleted';

/** One committed change, as published on the bus (docs/architecture.md). */
export interface InvalidationEvent {
  /** uuid, for idempotent consumers */
  id: string;
  /** service that made the change, e.g. 'catalog' */
  source: string;
  entity: string;
  action: InvalidationAction;
  entityId: string;
  version?: number;
  /** ISO time of the commit */
  occurredAt: string;
  /** trace context (traceparent) of the write */
  headers?: Record<string, string>;
}

export type NewInvalidationEvent = Omit<InvalidationEvent, 'id' | 'occurredAt'> &
  Partial<Pick<InvalidationEvent, 'id' | 'occurredAt'>>;

/** Fills id, occurredAt and the active trace context. */
export function createInvalidationEvent(
  fields: NewInvalidationEvent,
  now: number = Date.now(),
): InvalidationEvent {
  return {
    ...fields,
    id: fields.id ?? randomUUID(),
    occurredAt: fields.occurredAt ?? new Date(now).toISOString(),
    headers: { ...injectTraceHeaders(), ...fields.headers },
  };
}

/** `<service>.<entity>.<action>`, e.g. `catalog.product.updated`. */
export function invalidationRoutingKey(
  event: Pick<InvalidationEvent, 'source' | 'entity' | 'action'>,
): string {
  return `${event.source}.${event.entity}.${event.action}`;
}

const ACTIONS = new Set<string>(['created', 'updated', 'deleted']);

/** Shape check of a consumed message: a poison message is dropped, never retried forever. */
export function parseInvalidationEvent(content: Buffer): InvalidationEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!str(e.id) || !str(e.source) || !str(e.entity) || !str(e.entityId) || !str(e.occurredAt)) return null;
  if (typeof e.action !== 'string' || !ACTIONS.has(e.action)) return null;
  if (e.version !== undefined && typeof e.version !== 'number') return null;
  return raw as InvalidationEvent;
}

/** The bus is not connected; the caller (usually the outbox relay) retries later. */
export class InvalidationBusUnavailableError extends Error {
  override readonly name = 'InvalidationBusUnavailableError';
  constructor(message = 'invalidation bus is not connected') {
    super(message);
  }
}

/** The broker did not confirm a publish (nack, channel closed, or confirm timeout). */
export class InvalidationPublishError extends Error {
  override readonly name = 'InvalidationPublishError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type InvalidationHandler = (event: InvalidationEvent) => Promise<void>;

/** What Cache needs to know about the event feed for its gap rule (see Cache.trackInvalidationFeed). */
export interface InvalidationFeedStatus {
  readonly connected: boolean;
  /** epoch ms since when the consumer is disconnected; null while connected */
  readonly disconnectedSince: number | null;
  /** Called with true on every (re)connect, false on every disconnect. Returns an unsubscribe. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}

export interface InvalidationBusOptions {
  /** amqp(s) URL. `heartbeat=10` is added when the URL sets none, so a dead peer is noticed in ~20 s, not minutes. */
  url: string;
  /** This service's name: its queue is `memshop.<service>.invalidation`. */
  service: string;
  /** Topic exchange. Default 'memshop.invalidation' (env INVALIDATION_EXCHANGE). */
  exchange?: string;
  /** Durable queue shared by every instance of the service. Default `memshop.<service>.invalidation`. */
  queue?: string;
  /** Routing-key patterns the queue is bound to, e.g. ['catalog.product.*']. Default: none (publish only). */
  bindings?: string[];
  /** Unacked messages in flight per consumer. Default 32. */
  prefetch?: number;
  /** Handler failures before a message is dropped (acked and counted). Default 5. */
  maxDeliveries?: number;
  /** Delay before a failed message is requeued, times the attempt number. Default 100 ms. */
  retryDelayMs?: number;
  /** Recently handled event ids remembered to skip redeliveries. Default 10000. */
  dedupeSize?: number;
  /** Broker confirm wait per publish. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap (exponential, jittered by amqplib). Defaults 200 ms and 10000 ms. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  logger?: LoggerLike;
  metrics?: CacheMetrics;
  tracer?: Tracer;
  clock?: () => number;
}

type RecoveringModel = amqp.RecoveringChannelModel;

/**
 * Invalidation events over RabbitMQ: a durable topic exchange, one durable queue per consuming
 * service (instances compete, one purge per event is enough because memcached is shared),
 * publisher confirms, reconnect with backoff (amqplib's recovery), at-least-once delivery with
 * idempotent handling. start() never throws: a service must come up while the broker is down.
 */
export class InvalidationBus implements InvalidationFeedStatus {
  readonly #opts: Required<
    Omit<InvalidationBusOptions, 'logger' | 'metrics' | 'tracer' | 'clock' | 'url' | 'service'>
  > & { url: string; service: string };
  readonly #logger: LoggerLike;
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #tracing: CacheTracing;
  readonly #clock: () => number;
  readonly #handlers: InvalidationHandler[] = [];
  readonly #listeners = new Set<(connected: boolean) => void>();
  readonly #handled = new Map<string, true>();
  readonly #attempts = new Map<string, number>();
  #model: RecoveringModel | null = null;
  #publishChannel: amqp.ConfirmChannel | null = null;
  #connected = false;
  #disconnectedSince: number;
  #closing = false;
  #started = false;

  constructor(opts: InvalidationBusOptions) {
    this.#opts = {
      url: opts.url,
      service: opts.service,
      exchange: opts.exchange ?? 'memshop.invalidation',
      queue: opts.queue ?? `memshop.${opts.service}.invalidation`,
      bindings: opts.bindings ?? [],
      prefetch: opts.prefetch ?? 32,
      maxDeliveries: opts.maxDeliveries ?? 5,
      retryDelayMs: opts.retryDelayMs ?? 100,
      dedupeSize: opts.dedupeSize ?? 10_000,
      publishTimeoutMs: opts.publishTimeoutMs ?? 5000,
      reconnectInitialDelayMs: opts.reconnectInitialDelayMs ?? 200,
      reconnectMaxDelayMs: opts.reconnectMaxDelayMs ?? 10_000,
    };
    this.#logger = opts.logger ?? silentLogger;
    this.#log = new RateLimitedLogger(this.#logger, { clock: opts.clock });
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#tracing = new CacheTracing(opts.tracer);
    this.#clock = opts.clock ?? Date.now;
    // Until the first connection we have not seen any event: the gap starts now.
    this.#disconnectedSince = this.#clock();
  }

  get connected(): boolean {
    return this.#connected;
  }

  get disconnectedSince(): number | null {
    return this.#connected ? null : this.#disconnectedSince;
  }

  get exchange(): string {
    return this.#opts.exchange;
  }

  get queue(): string {
    return this.#opts.queue;
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Registers a handler for consumed events. Call before start(): the consumer is set up on
   * every (re)connect. Handlers must be idempotent (delivery is at-least-once); a throw requeues.
   */
  subscribe(handler: InvalidationHandler): void {
    if (this.#started) throw new Error('InvalidationBus.subscribe() must be called before start()');
    this.#handlers.push(handler);
  }

  /** Connects in the background and keeps reconnecting; resolves at once, never throws. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      const model = await amqp.connect(withHeartbeat(this.#opts.url), {
        timeout: 5000,
        recovery: {
          initialDelay: this.#opts.reconnectInitialDelayMs,
          maxDelay: this.#opts.reconnectMaxDelayMs,
          maxRetries: Infinity,
          waitForConnect: false,
          setup: (m: amqp.ChannelModel) => this.#setup(m),
        },
      });
      this.#model = model;
      model.on('connect', () => this.#setConnected(true));
      model.on('disconnect', (err: Error) => {
        this.#publishChannel = null;
        this.#setConnected(false);
        this.#log.warn('bus-disconnect', errorFields(err), 'invalidation bus disconnected, reconnecting');
      });
      model.on('connect-failed', (err: Error) =>
        this.#log.warn('bus-connect-failed', errorFields(err), 'invalidation bus connect failed, retrying'),
      );
      model.on('error', (err: Error) =>
        this.#log.warn('bus-error', errorFields(err), 'invalidation bus error'),
      );
      model.on('handler-error', (err: Error) =>
        this.#log.warn('bus-handler-error', errorFields(err), 'invalidation bus listener threw'),
      );
    } catch (err) {
      // Only reachable with a malformed URL: recovery swallows network errors and retries.
      this.#logger.error(errorFields(err), 'invalidation bus could not be created');
    }
  }

  /** Resolves once connected, or false after `timeoutMs` (readiness checks, tests). */
  async waitUntilConnected(timeoutMs = 10_000): Promise<boolean> {
    if (this.#connected) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = this.onConnectionChange((up) => {
        if (!up) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /**
   * Publishes one event and resolves when the broker has confirmed it (persistent message,
   * durable exchange). Rejects when disconnected or not confirmed, so the outbox row stays
   * pending and is retried.
   */
  async publish(event: InvalidationEvent): Promise<void> {
    const channel = this.#publishChannel;
    if (!channel || !this.#connected) {
      this.#metrics.recordInvalidationFailed('publish');
      publishDiagnostic('publish', { event, ok: false });
      throw new InvalidationBusUnavailableError();
    }
    const routingKey = invalidationRoutingKey(event);
    // The span continues the write's trace (carried in event.headers through the outbox).
    const parent = event.headers ? extractTraceContext(event.headers) : undefined;
    try {
      await this.#tracing.span(
        'invalidation.publish',
        {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': this.#opts.exchange,
          'messaging.rabbitmq.destination.routing_key': routingKey,
          'messaging.message.id': event.id,
        },
        async (span) => {
          // Explicit: without a context manager registered, the active context would be ROOT.
          const headers = {
            ...event.headers,
            ...injectTraceHeaders(trace.setSpan(parent ?? context.active(), span)),
          };
          const content = Buffer.from(JSON.stringify({ ...event, headers }));
          await this.#confirmPublish(channel, routingKey, content, {
            persistent: true,
            contentType: 'application/json',
            messageId: event.id,
            timestamp: Math.floor(this.#clock() / 1000),
            headers,
          });
        },
        { kind: SpanKind.PRODUCER, parent },
      );
    } catch (err) {
      this.#metrics.recordInvalidationFailed('publish');
      publishDiagnostic('publish', { event, ok: false });
      throw err instanceof InvalidationPublishError
        ? err
        : new InvalidationPublishError(`publish of ${routingKey} not confirmed`, { cause: err });
    }
    this.#metrics.recordInvalidationPublished(event.entity);
    publishDiagnostic('publish', { event, ok: true });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const model = this.#model;
    this.#model = null;
    this.#publishChannel = null;
    if (model) await model.close().catch(() => undefined);
    if (this.#connected) this.#setConnected(false);
    this.#listeners.clear();
  }

  #confirmPublish(
    channel: amqp.ConfirmChannel,
    routingKey: string,
    content: Buffer,
    options: amqp.Options.Publish,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new InvalidationPublishError(`no broker confirm within ${this.#opts.publishTimeoutMs} ms`)),
        this.#opts.publishTimeoutMs,
      );
      try {
        channel.publish(this.#opts.exchange, routingKey, content, options, (err) => {
          clearTimeout(timer);
          if (err) reject(new InvalidationPublishError('broker nacked the publish', { cause: err }));
          else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err);
      }
    });
  }

  /** Runs on every (re)connect, before `connect` is emitted: topology, publisher, consumer. */
  async #setup(model: amqp.ChannelModel): Promise<void> {
    const publishChannel = await model.createConfirmChannel();
    this.#watchChannel(model, publishChannel, 'publish');
    await publishChannel.assertExchange(this.#opts.exchange, 'topic', { durable: true });

    if (this.#handlers.length > 0) {
      const consumeChannel = await model.createChannel();
      this.#watchChannel(model, consumeChannel, 'consume');
      await consumeChannel.prefetch(this.#opts.prefetch);
      await consumeChannel.assertQueue(this.#opts.queue, { durable: true });
      for (const pattern of this.#opts.bindings) {
        await consumeChannel.bindQueue(this.#opts.queue, this.#opts.exchange, pattern);
      }
      await consumeChannel.consume(this.#opts.queue, (msg) => {
        if (msg) void this.#onMessage(consumeChannel, msg);
      });
    }
    this.#publishChannel = publishChannel;
  }

  /**
   * A channel can die on its own (a protocol error, the queue deleted under us) while the
   * connection lives on; amqplib only recovers connections, so close the connection and let
   * recovery rebuild everything.
   */
  #watchChannel(model: amqp.ChannelModel, channel: amqp.Channel, role: string): void {
    channel.on('error', (err: Error) =>
      this.#log.warn(`bus-channel-${role}`, errorFields(err), 'bus channel error'),
    );
    channel.on('handler-error', (err: Error) =>
      this.#log.warn('bus-handler-error', errorFields(err), 'invalidation bus listener threw'),
    );
    channel.on('close', () => {
      if (this.#closing) return;
      model.close().catch(() => undefined);
    });
  }

  async #onMessage(channel: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    const event = parseInvalidationEvent(msg.content);
    if (!event) {
      this.#metrics.recordInvalidationFailed('consume');
      this.#log.warn(
        'bus-poison',
        { routingKey: msg.fields.routingKey },
        'malformed invalidation message dropped',
      );
      settle(() => channel.ack(msg));
      return;
    }
    if (this.#handled.has(event.id)) {
      publishDiagnostic('consume', { event, ok: true, duplicate: true });
      settle(() => channel.ack(msg));
      return;
    }
    const parent = extractTraceContext(msg.properties.headers as Record<string, unknown> | undefined);
    try {
      await this.#tracing.span(
        'invalidation.consume',
        {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': this.#opts.queue,
          'messaging.rabbitmq.destination.routing_key': msg.fields.routingKey,
          'messaging.message.id': event.id,
        },
        async () => {
          for (const handler of this.#handlers) await handler(event);
        },
        { kind: SpanKind.CONSUMER, parent },
      );
    } catch (err) {
      const attempts = (this.#attempts.get(event.id) ?? 0) + 1;
      remember(this.#attempts, event.id, attempts, this.#opts.dedupeSize);
      this.#metrics.recordInvalidationFailed('consume');
      publishDiagnostic('consume', { event, ok: false, duplicate: false });
      if (attempts >= this.#opts.maxDeliveries) {
        this.#attempts.delete(event.id);
        this.#logger.error(
          { ...errorFields(err), eventId: event.id, attempts },
          'invalidation handler kept failing, event dropped',
        );
        settle(() => channel.ack(msg));
        return;
      }
      this.#log.warn(
        'bus-handler-failed',
        { ...errorFields(err), eventId: event.id, attempts },
        'invalidation handler failed, requeueing',
      );
      // Requeued messages come straight back; a short pause keeps a failing handler from spinning.
      await new Promise((r) => setTimeout(r, this.#opts.retryDelayMs * attempts));
      settle(() => channel.nack(msg, false, true));
      return;
    }
    this.#attempts.delete(event.id);
    remember(this.#handled, event.id, true, this.#opts.dedupeSize);
    this.#metrics.recordInvalidationConsumed(event.entity);
    const committedAt = Date.parse(event.occurredAt);
    if (Number.isFinite(committedAt)) {
      this.#metrics.observeInvalidationLag(event.entity, (this.#clock() - committedAt) / 1000);
    }
    publishDiagnostic('consume', { event, ok: true, duplicate: false });
    settle(() => channel.ack(msg));
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (!connected) this.#disconnectedSince = this.#clock();
    publishDiagnostic('bus', { state: connected ? 'connected' : 'disconnected', since: this.#clock() });
    for (const listener of this.#listeners) {
      try {
        listener(connected);
      } catch (err) {
        this.#log.warn('bus-listener', errorFields(err), 'connection listener threw');
      }
    }
  }
}

/** Bounded insertion-ordered map: the oldest entry goes first (a FIFO is enough for dedupe). */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/** ack/nack on a channel that died meanwhile throws; the broker redelivers anyway. */
function settle(fn: () => void): void {
  try {
    fn();
  } catch {
    // unacked messages of a closed channel are requeued by the broker
  }
}

function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', '10');
    return parsed.toString();
  } catch {
    return url;
  }
}
