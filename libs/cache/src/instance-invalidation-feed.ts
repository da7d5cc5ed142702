import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import { withHeartbeat } from './amqp-queues.js';
import { parseInvalidationEvent, type InvalidationEvent } from './invalidation-event.js';
import { defaultInvalidationExchange, DEFAULT_NAME_PREFIX } from './invalidation-topology.js';
import { errorFields, RateLimitedLogger, silentLogger, type LoggerLike } from './logger.js';

export interface InstanceInvalidationFeedOptions {
  /** amqp(s):// URL of the broker. Required. */
  url: string;
  /** The consuming service's name: part of the queue names. Required. */
  service: string;
  /**
   * Each connection declares `<queuePrefix>.<random uuid>` (a fresh name per connection, so a
   * reconnect never waits for the broker to drop the previous connection's queue). A fixed
   * prefix, not a server-named `amq.gen-*` queue, lets a least-privilege broker user be granted
   * exactly its own. Default `<namePrefix>.<service>.near`.
   */
  queuePrefix?: string;
  /** The invalidation exchange (the bus's). Default `<namePrefix>.invalidation`. */
  exchange?: string;
  /** Default 'cache' (the bus's default). */
  namePrefix?: string;
  /** Routing-key patterns, the same as the service's durable queue. Required. */
  bindings: string[];
  /**
   * Called for every event this instance receives, synchronously: messages are not acked, so
   * nothing holds back the next one, and work it starts in the background is its own to bound.
   * What it throws is logged; the event is not redelivered.
   */
  onEvent: (event: InvalidationEvent) => void;
  /** Default 200. */
  reconnectInitialDelayMs?: number;
  /** Default 10000. */
  reconnectMaxDelayMs?: number;
  /** Default: silent. */
  logger?: LoggerLike;
}

/**
 * Every invalidation event, delivered to this one process. The service's durable queue hands
 * each event to one of its instances, which is right for the shared memcached tier but not for
 * a per-process tier (NearCache): each process needs every event. So each process declares its
 * own queue (`<queuePrefix>.<uuid>`), exclusive and auto-delete (RabbitMQ deletes it with the connection:
 * nothing is left on the broker by a process that dies), bound with the same routing keys. It
 * has its own connection, so its state says exactly whether this process hears events. Messages
 * are consumed without acks: one lost with the connection is covered by the consumer of the
 * `connected` change (drop everything), not by a redelivery.
 */
export class InstanceInvalidationFeed {
  readonly #url: string;
  readonly #exchange: string;
  readonly #queuePrefix: string;
  readonly #bindings: string[];
  readonly #onEvent: (event: InvalidationEvent) => void;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #log: RateLimitedLogger;
  readonly #listeners = new Set<(connected: boolean) => void>();
  readonly #handled = new Set<(event: InvalidationEvent) => void>();
  #model: amqp.RecoveringChannelModel | null = null;
  #connected = false;
  #started = false;
  #closing = false;

  constructor(opts: InstanceInvalidationFeedOptions) {
    this.#url = opts.url;
    const namePrefix = opts.namePrefix ?? DEFAULT_NAME_PREFIX;
    this.#exchange = opts.exchange ?? defaultInvalidationExchange(namePrefix);
    this.#queuePrefix = opts.queuePrefix ?? `${namePrefix}.${opts.service}.near`;
    this.#bindings = [...opts.bindings];
    this.#onEvent = opts.onEvent;
    this.#initialDelayMs = opts.reconnectInitialDelayMs ?? 200;
    this.#maxDelayMs = opts.reconnectMaxDelayMs ?? 10_000;
    this.#log = new RateLimitedLogger(opts.logger ?? silentLogger);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Called with true on every (re)connect, false on every disconnect. Returns an unsubscribe. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after `onEvent` ran for each event (tests wait on it; metrics may count it). Returns an unsubscribe. */
  onEventHandled(listener: (event: InvalidationEvent) => void): () => void {
    this.#handled.add(listener);
    return () => this.#handled.delete(listener);
  }

  /** Connects in the background and keeps reconnecting; resolves at once, never throws. */
  async start(): Promise<void> {
    if (this.#started || this.#closing) return;
    this.#started = true;
    try {
      const model = await amqp.connect(withHeartbeat(this.#url), {
        timeout: 5000,
        // TCP_NODELAY: with Nagle's algorithm a small frame written behind an unacknowledged one
        // waits for the broker's delayed ACK, tens of milliseconds on an idle connection.
        noDelay: true,
        recovery: {
          initialDelay: this.#initialDelayMs,
          maxDelay: this.#maxDelayMs,
          maxRetries: Infinity,
          waitForConnect: false,
          setup: (m: amqp.ChannelModel) => this.#setup(m),
        },
      });
      if (this.#closing) {
        // close() ran while we were connecting: it found no connection to close.
        await model.close().catch(() => undefined);
        return;
      }
      this.#model = model;
      model.on('connect', () => this.#setConnected(true));
      model.on('disconnect', (err: Error) => {
        this.#setConnected(false);
        this.#log.warn('feed-disconnect', errorFields(err), 'instance invalidation feed disconnected');
      });
      model.on('connect-failed', (err: Error) =>
        this.#log.warn('feed-connect-failed', errorFields(err), 'instance invalidation feed connect failed'),
      );
      model.on('error', (err: Error) =>
        this.#log.warn('feed-error', errorFields(err), 'instance invalidation feed error'),
      );
    } catch (err) {
      this.#log.warn('feed-create', errorFields(err), 'instance invalidation feed could not be created');
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

  async close(): Promise<void> {
    this.#closing = true;
    const model = this.#model;
    this.#model = null;
    if (model) await model.close().catch(() => undefined);
    if (this.#connected) this.#setConnected(false);
    this.#listeners.clear();
    this.#handled.clear();
  }

  /** Runs on every (re)connect, before `connect` is emitted. */
  async #setup(model: amqp.ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.#log.warn('feed-channel', errorFields(err), 'instance invalidation feed channel error'),
    );
    // amqplib recovers connections, not channels: a dead channel closes the connection.
    channel.on('close', () => {
      if (!this.#closing) model.close().catch(() => undefined);
    });
    await channel.assertExchange(this.#exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue(`${this.#queuePrefix}.${randomUUID()}`, {
      exclusive: true,
      autoDelete: true,
      durable: false,
    });
    for (const pattern of this.#bindings) await channel.bindQueue(queue, this.#exchange, pattern);
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) {
          // Cancelled by the broker: nothing reaches us any more; reconnecting redeclares.
          this.#setConnected(false);
          model.close().catch(() => undefined);
          return;
        }
        const event = parseInvalidationEvent(msg.content);
        if (!event) return;
        try {
          this.#onEvent(event);
          for (const listener of this.#handled) listener(event);
        } catch (err) {
          this.#log.warn('feed-handler', errorFields(err), 'instance invalidation handler threw');
        }
      },
      { noAck: true },
    );
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    for (const listener of this.#listeners) {
      try {
        listener(connected);
      } catch (err) {
        this.#log.warn('feed-listener', errorFields(err), 'connection listener threw');
      }
    }
  }
}
