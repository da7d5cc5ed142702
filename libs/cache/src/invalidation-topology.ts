import type * as amqp from 'amqplib';
import { queueExists } from './amqp-queues.js';

/**
 * The broker objects one consuming service owns, and how they are declared. Kept apart from the
 * bus so the operator command (list / replay parked messages) and tests name them the same way.
 *
 * - `queue`: a quorum queue (replicated, and it counts deliveries on the broker, so retries
 *   survive restarts and are shared by every instance) with a delivery limit and a dead-letter
 *   exchange, as RabbitMQ's reliability guide recommends.
 * - `deadLetterExchange`: a direct exchange; everything this queue dead-letters goes to it
 *   with the queue's name as routing key.
 * - `parkingQueue`: bound to it under that key; nothing consumes it, an operator lists and
 *   replays it.
 */
export interface InvalidationTopology {
  exchange: string;
  queue: string;
  deadLetterExchange: string;
  parkingQueue: string;
  /** Deliveries after the first that the broker allows before it dead-letters a message. */
  deliveryLimit: number;
}

/**
 * Default queue name of a service. It is not the `<prefix>.<service>.invalidation` the classic
 * queues had: RabbitMQ refuses to redeclare an existing classic queue as a quorum queue
 * (PRECONDITION_FAILED), so a new name lets a service start on a broker that still has the old
 * one, which the bus then retires (see `legacyQueues`).
 */
export function defaultInvalidationQueue(service: string, prefix = 'memshop'): string {
  return `${prefix}.${service}.invalidation.quorum`;
}

/** The classic queue name earlier versions declared; retired on start when it exists. */
export function legacyInvalidationQueue(service: string, prefix = 'memshop'): string {
  return `${prefix}.${service}.invalidation`;
}

export function invalidationTopology(opts: {
  exchange: string;
  queue: string;
  deadLetterExchange?: string | undefined;
  parkingQueue?: string | undefined;
  deliveryLimit?: number | undefined;
}): InvalidationTopology {
  return {
    exchange: opts.exchange,
    queue: opts.queue,
    deadLetterExchange: opts.deadLetterExchange ?? `${opts.exchange}.dead-letter`,
    parkingQueue: opts.parkingQueue ?? `${opts.queue}.parked`,
    deliveryLimit: opts.deliveryLimit ?? 20,
  };
}

/** Arguments of the consuming quorum queue. Changing them on an existing queue is refused (406). */
export function consumingQueueArguments(t: InvalidationTopology): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': t.deliveryLimit,
    'x-dead-letter-exchange': t.deadLetterExchange,
    'x-dead-letter-routing-key': t.queue,
  };
}

/**
 * The parking queue's own delivery limit. Nothing consumes it, but listing and replaying it
 * returns every message it reads (nack with requeue), and RabbitMQ 4.0 gives every quorum queue
 * that declares none a limit of 20, counting such returns on 4.0 to 4.2: a parked message listed
 * 20 times would be dropped, with no dead-letter exchange behind it. The largest signed 32-bit
 * value is accepted by 3.x and 4.x alike; -1 ("no limit") is 4.x only.
 */
export const PARKING_DELIVERY_LIMIT = 2_147_483_647;

/** Arguments of the parking queue. Changing them on an existing queue is refused (406). */
export function parkingQueueArguments(): Record<string, unknown> {
  return { 'x-queue-type': 'quorum', 'x-delivery-limit': PARKING_DELIVERY_LIMIT };
}

/**
 * Declares the dead-letter exchange and the parking queue, bound; idempotent. A parking queue
 * that already exists is only bound, not redeclared: one declared by an earlier version without
 * `x-delivery-limit` would refuse the new arguments (406) and with them every reconnect. On
 * RabbitMQ 4.x such a queue needs a `delivery-limit` policy instead (README, "Parking queue").
 */
export async function assertParking(
  model: amqp.ChannelModel,
  channel: amqp.Channel,
  t: InvalidationTopology,
): Promise<void> {
  await channel.assertExchange(t.deadLetterExchange, 'direct', { durable: true });
  if (!(await queueExists(model, t.parkingQueue))) {
    await channel.assertQueue(t.parkingQueue, { durable: true, arguments: parkingQueueArguments() });
  }
  await channel.bindQueue(t.parkingQueue, t.deadLetterExchange, t.queue);
}

/** Headers the bus puts on a message it parks itself (the broker adds `x-death` to the ones it parks). */
export const PARKED_HEADERS = {
  reason: 'x-parked-reason',
  detail: 'x-parked-detail',
  routingKey: 'x-original-routing-key',
  exchange: 'x-original-exchange',
  parkedAt: 'x-parked-at',
} as const;

/** Why a message was parked: set by the bus, or `x-death`'s reason when the broker parked it. */
export type ParkedReason =
  | 'malformed'
  | 'too_large'
  | 'handler_failed'
  | 'delivery_limit'
  | 'rejected'
  | 'expired'
  | 'maxlen'
  | 'unknown';

export interface ParkedMessageInfo {
  reason: ParkedReason;
  detail: string | undefined;
  /** The routing key the message was first published with (replay publishes it there again). */
  routingKey: string | undefined;
  exchange: string | undefined;
}

/** Reads the parking headers of either kind of parked message. */
export function parkedMessageInfo(
  properties: amqp.MessageProperties,
  fields: amqp.MessageFields,
): ParkedMessageInfo {
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const own = headers[PARKED_HEADERS.reason];
  if (typeof own === 'string') {
    return {
      reason: own as ParkedReason,
      detail: stringOrUndefined(headers[PARKED_HEADERS.detail]),
      routingKey: stringOrUndefined(headers[PARKED_HEADERS.routingKey]),
      exchange: stringOrUndefined(headers[PARKED_HEADERS.exchange]),
    };
  }
  const deaths = headers['x-death'];
  const first = Array.isArray(deaths) ? (deaths[0] as Record<string, unknown> | undefined) : undefined;
  const keys = first?.['routing-keys'];
  const reason = stringOrUndefined(first?.['reason']) ?? stringOrUndefined(headers['x-first-death-reason']);
  return {
    reason: (reason as ParkedReason | undefined) ?? 'unknown',
    detail: undefined,
    // A replayed message reaches the queue by its name; its original key rides in a header.
    routingKey:
      stringOrUndefined(headers[PARKED_HEADERS.routingKey]) ??
      (Array.isArray(keys) && typeof keys[0] === 'string' ? keys[0] : fields.routingKey),
    exchange:
      stringOrUndefined(headers[PARKED_HEADERS.exchange]) ??
      stringOrUndefined(first?.['exchange']) ??
      stringOrUndefined(headers['x-first-death-exchange']),
  };
}

function stringOrUndefined(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}
