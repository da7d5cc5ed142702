import type { Tracer } from '@opentelemetry/api';
import type { LoggerLike } from './logger.js';
import type { CacheMetrics } from './metrics.js';

export interface InvalidationBusOptions {
  /** amqp(s) URL. `heartbeat=10` is added when the URL sets none, so a dead peer is noticed in ~20 s, not minutes. */
  url: string;
  /** This service's name: names its default queue. */
  service: string;
  /**
   * First part of the default broker names: exchange `<namePrefix>.invalidation`, queue
   * `<namePrefix>.<service>.invalidation.quorum`. Default 'cache'.
   */
  namePrefix?: string;
  /** Topic exchange. Default `<namePrefix>.invalidation`. */
  exchange?: string;
  /** Quorum queue shared by every instance of the service. Default `<namePrefix>.<service>.invalidation.quorum`. */
  queue?: string;
  /** Routing-key patterns the queue is bound to, e.g. ['catalog.product.*']. Default: none (publish only). */
  bindings?: string[];
  /** Direct exchange the queue dead-letters into. Default `<exchange>.dead-letter`. */
  deadLetterExchange?: string;
  /** Where messages that cannot be processed are kept, with their reason. Default `<queue>.parked`. */
  parkingQueue?: string;
  /**
   * Redeliveries the broker allows (the quorum queue's `x-delivery-limit`, counted on the broker
   * so it survives restarts and is shared by instances) before the message is parked. Default 20.
   */
  deliveryLimit?: number;
  /** Larger messages are parked unread (and larger events are not published). Default 65536. */
  maxMessageBytes?: number;
  /**
   * Classic queues an earlier version declared for this service: unbound and deleted once the
   * quorum queue is bound, so they stop collecting copies. Default: `<namePrefix>.<service>.invalidation`
   * when `queue` is the default name, none otherwise.
   */
  legacyQueues?: string[];
  /** Unacked messages in flight per consumer. Default 32. */
  prefetch?: number;
  /** Pause before a failed message goes back to the broker: base * 2^deliveries, capped. Defaults 100 ms and 5000 ms. */
  retryDelayMs?: number;
  retryMaxDelayMs?: number;
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
  /** Name of the global provider's tracer used when `tracer` is not given. Default 'cache'. */
  tracerName?: string;
  /** node:diagnostics_channel names are `<prefix>:invalidation.publish`, …. Default 'cache'. */
  diagnosticsChannelPrefix?: string;
  clock?: () => number;
}

/** The options the bus reads after construction, defaults applied. */
export interface ResolvedBusOptions {
  url: string;
  service: string;
  bindings: string[];
  legacyQueues: string[];
  maxMessageBytes: number;
  prefetch: number;
  retryDelayMs: number;
  retryMaxDelayMs: number;
  dedupeSize: number;
  publishTimeoutMs: number;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
}
