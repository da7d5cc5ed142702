import { context, SpanKind, trace } from '@opentelemetry/api';
import * as amqp from 'amqplib';
import { queueExists, retireLegacyQueue, withHeartbeat } from './amqp-queues.js';
import { confirmPublish } from './confirm-publish.js';
import { InvalidationBusUnavailableError, InvalidationPublishError } from './errors.js';
import type { InvalidationBusOptions, ResolvedBusOptions } from './invalidation-bus-options.js';
import { InvalidationConsumer, type InvalidationHandler } from './invalidation-consumer.js';
import { invalidationRoutingKey, type InvalidationEvent } from './invalidation-event.js';
import type { InvalidationFeedStatus } from './invalidation-feed-status.js';
import {
  assertParking,
  consumingQueueArguments,
  DEFAULT_NAME_PREFIX,
  defaultInvalidationExchange,
  defaultInvalidationQueue,
  invalidationTopology,
  legacyInvalidationQueue,
  type InvalidationTopology,
} from './invalidation-topology.js';
import { errorFields, silentLogger, type LoggerLike, RateLimitedLogger } from './logger.js';
import { noopCacheMetrics, type CacheMetrics } from './metrics.js';
import { CacheTracing, extractTraceContext, injectTraceHeaders } from './tracing.js';

type RecoveringModel = amqp.RecoveringChannelModel;

/**
 * Invalidation events over RabbitMQ: a durable topic exchange, one quorum queue per consuming
 * service (instances compete, one purge per event is enough because memcached is shared),
 * mandatory publishes with publisher confirms, acks only after the handler succeeded, retries
 * counted by the broker up to a delivery limit, and a parking queue for what cannot be
 * processed. A cancelled consumer (its queue deleted, a failover) counts as a disconnect and
 * is rebuilt like one. start() never throws: a service must come up while the broker is down.
 */
export class InvalidationBus implements InvalidationFeedStatus {
  readonly #opts: ResolvedBusOptions;
  readonly #topology: InvalidationTopology;
  readonly #logger: LoggerLike;
  readonly #log: RateLimitedLogger;
  readonly #metrics: CacheMetrics;
  readonly #tracing: CacheTracing;
  readonly #clock: () => number;
  readonly #handlers: InvalidationHandler[] = [];
  readonly #listeners = new Set<(connected: boolean) => void>();
  readonly #consumer: InvalidationConsumer;
  /** messageIds the broker returned as unroutable; the confirm that follows reads and clears it. */
  readonly #returned = new Set<string>();
  readonly #confirm: { timeoutMs: number; returned: Set<string> };
  #model: RecoveringModel | null = null;
  #publishChannel: amqp.ConfirmChannel | null = null;
  #connected = false;
  #disconnectedSince: number;
  #eventsLostBefore: number | null = null;
  /** Set by setup when the queue did not exist; applied at the `connect` that follows. */
  #queueWasMissing = false;
  #closing = false;
  #started = false;

  constructor(opts: InvalidationBusOptions) {
    const prefix = opts.namePrefix ?? DEFAULT_NAME_PREFIX;
    const exchange = opts.exchange ?? defaultInvalidationExchange(prefix);
    const defaultQueue = defaultInvalidationQueue(opts.service, prefix);
    const queue = opts.queue ?? defaultQueue;
    this.#topology = invalidationTopology({
      exchange,
      queue,
      deadLetterExchange: opts.deadLetterExchange,
      parkingQueue: opts.parkingQueue,
      deliveryLimit: opts.deliveryLimit,
    });
    // The retirement follows the default name, also when it is configured explicitly (the stack does).
    const legacy =
      opts.legacyQueues ?? (queue === defaultQueue ? [legacyInvalidationQueue(opts.service, prefix)] : []);
    this.#opts = {
      url: opts.url,
      service: opts.service,
      bindings: opts.bindings ?? [],
      legacyQueues: legacy.filter((name) => name !== queue),
      maxMessageBytes: opts.maxMessageBytes ?? 64 * 1024,
      prefetch: opts.prefetch ?? 32,
      retryDelayMs: opts.retryDelayMs ?? 100,
      retryMaxDelayMs: opts.retryMaxDelayMs ?? 5000,
      dedupeSize: opts.dedupeSize ?? 10_000,
      publishTimeoutMs: opts.publishTimeoutMs ?? 5000,
      reconnectInitialDelayMs: opts.reconnectInitialDelayMs ?? 200,
      reconnectMaxDelayMs: opts.reconnectMaxDelayMs ?? 10_000,
    };
    this.#logger = opts.logger ?? silentLogger;
    this.#log = new RateLimitedLogger(this.#logger, { clock: opts.clock });
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#tracing = new CacheTracing({
      tracer: opts.tracer,
      tracerName: opts.tracerName,
      channelPrefix: opts.diagnosticsChannelPrefix,
    });
    this.#clock = opts.clock ?? Date.now;
    this.#confirm = { timeoutMs: this.#opts.publishTimeoutMs, returned: this.#returned };
    this.#consumer = new InvalidationConsumer({
      topology: this.#topology,
      handlers: this.#handlers,
      maxMessageBytes: this.#opts.maxMessageBytes,
      dedupeSize: this.#opts.dedupeSize,
      retryDelayMs: this.#opts.retryDelayMs,
      retryMaxDelayMs: this.#opts.retryMaxDelayMs,
      publishParked: (exchange, routingKey, content, options) => {
        const channel = this.#publishChannel;
        if (!channel) throw new InvalidationBusUnavailableError();
        return confirmPublish(channel, exchange, routingKey, content, options, this.#confirm);
      },
      log: this.#log,
      metrics: this.#metrics,
      tracing: this.#tracing,
      clock: this.#clock,
    });
    // Until the first connection we have not seen any event: the gap starts now.
    this.#disconnectedSince = this.#clock();
  }

  /** True while connected and, when this bus consumes, while its consumer is subscribed. */
  get connected(): boolean {
    return this.#connected;
  }

  get disconnectedSince(): number | null {
    return this.#connected ? null : this.#disconnectedSince;
  }

  get eventsLostBefore(): number | null {
    return this.#eventsLostBefore;
  }

  get exchange(): string {
    return this.#topology.exchange;
  }

  get queue(): string {
    return this.#topology.queue;
  }

  /** Every broker object name this bus declares (operator commands and test cleanup use it). */
  get topology(): InvalidationTopology {
    return { ...this.#topology };
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Registers a handler for consumed events. Call before start(): the consumer is set up on
   * every (re)connect. Handlers must be idempotent (delivery is at-least-once) and must throw
   * when their work did not happen: the message is acked only after every handler resolved.
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
        // TCP_NODELAY: with Nagle's algorithm a small frame written behind an unacknowledged one
        // waits for the broker's delayed ACK, tens of milliseconds on an idle connection.
        noDelay: true,
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
      model.on('connect-failed', (err: Error) => this.#onConnectFailed(err));
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
   * Publishes one event and resolves when the broker has confirmed it (persistent, mandatory,
   * durable exchange). Rejects when disconnected, not confirmed, returned as unroutable, or
   * larger than `maxMessageBytes`, so the outbox row stays pending and is retried (or parked).
   */
  async publish(event: InvalidationEvent): Promise<void> {
    const channel = this.#publishChannel;
    if (!channel || !this.#connected) {
      this.#metrics.recordInvalidationFailed('publish');
      this.#tracing.publish('publish', { event, ok: false });
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
          'messaging.destination.name': this.#topology.exchange,
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
          if (content.length > this.#opts.maxMessageBytes) {
            throw new InvalidationPublishError(
              `event of ${content.length} bytes is over the ${this.#opts.maxMessageBytes}-byte limit`,
            );
          }
          await confirmPublish(
            channel,
            this.#topology.exchange,
            routingKey,
            content,
            {
              persistent: true,
              mandatory: true,
              contentType: 'application/json',
              messageId: event.id,
              timestamp: Math.floor(this.#clock() / 1000),
              headers,
            },
            this.#confirm,
          );
        },
        { kind: SpanKind.PRODUCER, parent },
      );
    } catch (err) {
      this.#metrics.recordInvalidationFailed('publish');
      this.#tracing.publish('publish', { event, ok: false });
      throw err instanceof InvalidationPublishError
        ? err
        : new InvalidationPublishError(`publish of ${routingKey} not confirmed`, { cause: err });
    }
    this.#metrics.recordInvalidationPublished(event.entity);
    this.#tracing.publish('publish', { event, ok: true });
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

  #onConnectFailed(err: Error): void {
    // A queue of this name declared with other arguments (a classic queue, another delivery
    // limit) is refused on every attempt: say what to do instead of only retrying.
    const code = (err as { code?: unknown }).code;
    if (code === 406) {
      this.#log.error(
        'bus-precondition',
        { ...errorFields(err), queue: this.#topology.queue },
        'invalidation queue exists with other arguments (a classic queue?); delete it or configure another name',
      );
      return;
    }
    this.#log.warn('bus-connect-failed', errorFields(err), 'invalidation bus connect failed, retrying');
  }

  /** Runs on every (re)connect, before `connect` is emitted: topology, publisher, consumer. */
  async #setup(model: amqp.ChannelModel): Promise<void> {
    const t = this.#topology;
    const publishChannel = await model.createConfirmChannel();
    this.#watchChannel(model, publishChannel, 'publish');
    publishChannel.on('return', (msg: amqp.Message) => {
      const id = msg.properties.messageId;
      if (typeof id === 'string') this.#returned.add(id);
    });
    await publishChannel.assertExchange(t.exchange, 'topic', { durable: true });
    // Before the consumer subscribes: a message delivered at once may have to be parked, and
    // parking publishes on this channel (`publish` still waits for `connected`).
    this.#publishChannel = publishChannel;

    if (this.#handlers.length > 0) {
      const consumeChannel = await model.createChannel();
      this.#watchChannel(model, consumeChannel, 'consume');
      await consumeChannel.prefetch(this.#opts.prefetch);
      await assertParking(model, consumeChannel, t);
      // Kept until a setup completes: a setup that found the queue gone, recreated it, then
      // failed must not let the next one (which finds it) forget that events were lost.
      this.#queueWasMissing ||= !(await queueExists(model, t.queue));
      await consumeChannel.assertQueue(t.queue, { durable: true, arguments: consumingQueueArguments(t) });
      for (const pattern of this.#opts.bindings) {
        await consumeChannel.bindQueue(t.queue, t.exchange, pattern);
      }
      for (const legacy of this.#opts.legacyQueues)
        await retireLegacyQueue(model, legacy, t.queue, this.#logger);
      await consumeChannel.consume(t.queue, (msg) => {
        if (msg) void this.#consumer.handle(consumeChannel, msg);
        else this.#onCancelled(model);
      });
    }
  }

  /**
   * The broker cancelled our consumer (queue deleted, quorum leader lost): no event reaches us
   * although the connection looks healthy. Treat it as a disconnect, so the gap rule starts at
   * once and readiness says so, and close the connection: recovery reconnects and its setup
   * re-declares the queue, its bindings and the consumer.
   */
  #onCancelled(model: amqp.ChannelModel): void {
    if (this.#closing) return;
    this.#log.warn(
      'bus-cancelled',
      { queue: this.#topology.queue },
      'consumer cancelled by the broker, resubscribing',
    );
    this.#tracing.publish('bus', { state: 'cancelled', since: this.#clock() });
    this.#publishChannel = null;
    this.#setConnected(false);
    model.close().catch(() => undefined);
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

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (!connected) this.#disconnectedSince = this.#clock();
    // A queue declared anew (deleted by an operator, lost with its node, or never there) kept
    // nothing of what was published before: set before the listeners run, so the cache's
    // reconnect bump and its distrust of older entries see it together.
    if (connected && this.#queueWasMissing) {
      this.#queueWasMissing = false;
      this.#eventsLostBefore = this.#clock();
      this.#logger.warn(
        { queue: this.#topology.queue },
        'invalidation queue was missing: older cache entries are reloaded',
      );
    }
    this.#tracing.publish('bus', { state: connected ? 'connected' : 'disconnected', since: this.#clock() });
    for (const listener of this.#listeners) {
      try {
        listener(connected);
      } catch (err) {
        this.#log.warn('bus-listener', errorFields(err), 'connection listener threw');
      }
    }
  }
}
