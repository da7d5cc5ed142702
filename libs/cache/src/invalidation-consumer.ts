import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type * as amqp from 'amqplib';
import { decodeInvalidationEvent, type InvalidationEvent } from './invalidation-event.js';
import {
  PARKED_HEADERS,
  parkedMessageInfo,
  type InvalidationTopology,
  type ParkedReason,
} from './invalidation-topology.js';
import { errorFields, type RateLimitedLogger } from './logger.js';
import type { CacheMetrics } from './metrics.js';
import { extractTraceContext, type CacheTracing } from './tracing.js';

export type InvalidationHandler = (event: InvalidationEvent) => Promise<void>;

export interface InvalidationConsumerOptions {
  topology: InvalidationTopology;
  /** Run in order for every event; an event is acked once all of them resolved. */
  handlers: readonly InvalidationHandler[];
  maxMessageBytes: number;
  dedupeSize: number;
  retryDelayMs: number;
  retryMaxDelayMs: number;
  /** A confirmed publish on the bus's publish channel; throws when the bus is not connected. */
  publishParked(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: amqp.Options.Publish & { messageId: string },
  ): Promise<void>;
  log: RateLimitedLogger;
  metrics: CacheMetrics;
  tracing: CacheTracing;
  clock: () => number;
}

/**
 * The consuming half of the invalidation bus: what happens to one delivery. Events are handled
 * at least once (acked after every handler resolved) and deduplicated by id; what can never be
 * handled is parked with its reason instead of looping.
 */
export class InvalidationConsumer {
  readonly #opts: InvalidationConsumerOptions;
  readonly #handled = new Map<string, true>();
  /** Ids whose handlers are running, settled when they end (either way). */
  readonly #running = new Map<string, Promise<void>>();

  constructor(opts: InvalidationConsumerOptions) {
    this.#opts = opts;
  }

  /** Handles one delivery: parks what cannot be processed, runs the handlers once per event id, then acks. */
  async handle(channel: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    if (msg.content.length > this.#opts.maxMessageBytes) {
      await this.#park(
        channel,
        msg,
        'too_large',
        `${msg.content.length} bytes, limit ${this.#opts.maxMessageBytes}`,
      );
      return;
    }
    const decoded = decodeInvalidationEvent(msg.content);
    if (!decoded.ok) {
      await this.#park(channel, msg, 'malformed', decoded.reason);
      return;
    }
    const event = decoded.event;
    // A copy delivered while another is being handled (deliveries run concurrently, up to the
    // prefetch) waits for it: a duplicate once that one succeeded, handled if that one failed.
    for (let running = this.#running.get(event.id); running; running = this.#running.get(event.id)) {
      await running;
    }
    if (this.#handled.has(event.id)) {
      this.#opts.tracing.publish('consume', { event, ok: true, duplicate: true });
      settle(() => channel.ack(msg));
      return;
    }
    const run = this.#runHandlers(channel, msg, event);
    // Waiters only need the end, not the outcome: a failure is this delivery's to report.
    this.#running.set(
      event.id,
      run.catch(() => undefined),
    );
    try {
      await run;
    } finally {
      this.#running.delete(event.id);
    }
  }

  async #runHandlers(
    channel: amqp.Channel,
    msg: amqp.ConsumeMessage,
    event: InvalidationEvent,
  ): Promise<void> {
    const parent = extractTraceContext(msg.properties.headers as Record<string, unknown> | undefined);
    try {
      await this.#opts.tracing.span(
        'invalidation.consume',
        {
          'messaging.system': 'rabbitmq',
          'messaging.destination.name': this.#opts.topology.queue,
          'messaging.rabbitmq.destination.routing_key': msg.fields.routingKey,
          'messaging.message.id': event.id,
        },
        async () => {
          for (const handler of this.#opts.handlers) await handler(event);
        },
        { kind: SpanKind.CONSUMER, parent },
      );
    } catch (err) {
      await this.#onHandlerFailed(channel, msg, event, err);
      return;
    }
    remember(this.#handled, event.id, true, this.#opts.dedupeSize);
    this.#opts.metrics.recordInvalidationConsumed(event.entity);
    const committedAt = Date.parse(event.occurredAt);
    if (Number.isFinite(committedAt)) {
      this.#opts.metrics.observeInvalidationLag(event.entity, (this.#opts.clock() - committedAt) / 1000);
    }
    this.#opts.tracing.publish('consume', { event, ok: true, duplicate: false });
    settle(() => channel.ack(msg));
  }

  /**
   * The broker counts deliveries (`x-delivery-count`, absent on the first), so the retry budget
   * is shared by every instance and survives restarts. The last allowed delivery parks the
   * message itself, with the handler's error as the reason; the broker's own dead-lettering at
   * the limit stays as the backstop for a consumer that dies while handling.
   *
   * The message goes back with `basic.reject` (requeue), not `basic.nack`: RabbitMQ 3.x and 4.0
   * to 4.2 count any return, but from 4.3 the limit counts only failed deliveries (reject, a
   * crashed consumer) and a nack'd message would come back forever without `x-delivery-count`
   * moving, so it would never be parked.
   */
  async #onHandlerFailed(
    channel: amqp.Channel,
    msg: amqp.ConsumeMessage,
    event: InvalidationEvent,
    err: unknown,
  ): Promise<void> {
    this.#opts.metrics.recordInvalidationFailed('consume');
    this.#opts.tracing.publish('consume', { event, ok: false, duplicate: false });
    const deliveries = deliveryCount(msg);
    if (deliveries >= this.#opts.topology.deliveryLimit) {
      await this.#park(channel, msg, 'handler_failed', err instanceof Error ? err.message : String(err));
      return;
    }
    this.#opts.log.warn(
      'bus-handler-failed',
      { ...errorFields(err), eventId: event.id, deliveries },
      'invalidation handler failed, the broker redelivers',
    );
    // A requeued message comes straight back: the pause keeps a failing handler from spinning
    // through its delivery limit in a second while memcached or the database is away.
    const delay = Math.min(
      this.#opts.retryMaxDelayMs,
      this.#opts.retryDelayMs * 2 ** Math.min(deliveries, 16),
    );
    // Unref'd: a process shutting down does not wait for it (the broker redelivers the message).
    await new Promise((r) => setTimeout(r, delay).unref());
    settle(() => channel.reject(msg, true));
  }

  /**
   * Moves a message to the parking queue with why (headers), then acks it. If that publish
   * fails, the message is rejected without requeue: the broker dead-letters it to the same
   * parking queue (reason `rejected`), so a poison message never loops either way.
   */
  async #park(
    channel: amqp.Channel,
    msg: amqp.ConsumeMessage,
    reason: ParkedReason,
    detail: string,
  ): Promise<void> {
    const t = this.#opts.topology;
    this.#opts.metrics.recordInvalidationParked(reason);
    this.#opts.log.error(
      `bus-parked-${reason}`,
      {
        queue: t.queue,
        routingKey: msg.fields.routingKey,
        reason,
        detail,
        messageId: msg.properties.messageId,
      },
      'invalidation message parked',
    );
    try {
      const props = msg.properties;
      await this.#opts.publishParked(t.deadLetterExchange, t.queue, msg.content, {
        persistent: true,
        mandatory: true,
        ...(props.contentType ? { contentType: props.contentType } : {}),
        messageId: typeof props.messageId === 'string' ? props.messageId : randomUUID(),
        headers: {
          ...(props.headers as Record<string, unknown> | undefined),
          [PARKED_HEADERS.reason]: reason,
          [PARKED_HEADERS.detail]: detail.slice(0, 1000),
          // A replayed message came by the default exchange with its original key in a header.
          [PARKED_HEADERS.routingKey]:
            parkedMessageInfo(props, msg.fields).routingKey ?? msg.fields.routingKey,
          [PARKED_HEADERS.exchange]: msg.fields.exchange || props.headers?.[PARKED_HEADERS.exchange],
          [PARKED_HEADERS.parkedAt]: new Date(this.#opts.clock()).toISOString(),
        },
      });
    } catch (err) {
      this.#opts.log.warn(
        'bus-park-failed',
        errorFields(err),
        'parking publish failed, rejecting to the dead-letter exchange',
      );
      settle(() => channel.reject(msg, false));
      return;
    }
    settle(() => channel.ack(msg));
  }
}

/** Deliveries before this one, as the quorum queue counts them (0 on the first). */
function deliveryCount(msg: amqp.ConsumeMessage): number {
  const raw = (msg.properties.headers as Record<string, unknown> | undefined)?.['x-delivery-count'];
  const n = typeof raw === 'number' ? raw : Number(raw ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
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
