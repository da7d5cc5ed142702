import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import {
  PARKED_HEADERS,
  parkedMessageInfo,
  type InvalidationTopology,
  type ParkedReason,
} from './invalidation-topology.js';

/** One message of a parking queue, as an operator sees it. */
export interface ParkedInvalidation {
  reason: ParkedReason;
  detail: string | undefined;
  routingKey: string | undefined;
  messageId: string | undefined;
  bytes: number;
  /** The first 200 characters of the body, for a human to recognise it. */
  preview: string;
}

const PREVIEW_CHARS = 200;

/**
 * Operator access to a service's parking queue: list what is parked and why, and replay it to
 * the exchange it was first published to (after the cause was fixed). Nothing consumes the
 * parking queue otherwise; listing leaves every message in place.
 */
export class ParkedInvalidations {
  readonly #url: string;
  readonly #topology: InvalidationTopology;

  constructor(opts: { url: string; topology: InvalidationTopology }) {
    this.#url = opts.url;
    this.#topology = opts.topology;
  }

  /** Up to `limit` parked messages, oldest first; they stay parked. */
  async list(limit = 100): Promise<ParkedInvalidation[]> {
    return this.#withChannel(async (channel) => {
      const found: ParkedInvalidation[] = [];
      // Unacked gets are invisible to the next get, so this walks the queue once; the nack
      // at the end puts every one of them back.
      while (found.length < limit) {
        const msg = await channel.get(this.#topology.parkingQueue, { noAck: false });
        if (msg === false) break;
        found.push(describe(msg));
      }
      channel.nackAll(true);
      return found;
    });
  }

  /**
   * Publishes up to `limit` parked messages again, straight to this service's own queue through
   * the default exchange (confirmed, mandatory), and removes each one once the broker confirmed
   * it. Not through the topic exchange: every other service bound to the routing key would get
   * the message again. The original routing key travels in a header, so a message that fails
   * again is parked under it. Messages without a known routing key stay parked. Messages parked while it runs (a replayed message that
   * fails again) are left for the next replay. Returns the counts.
   */
  async replay(limit = 1000): Promise<{ replayed: number; kept: number }> {
    return this.#withChannel(async (channel) => {
      let replayed = 0;
      let kept = 0;
      // Take everything first (unacked, so invisible), then publish: a replayed message that
      // fails again is parked again behind them and is never picked up by this same replay.
      const { messageCount } = await channel.checkQueue(this.#topology.parkingQueue);
      const taken: amqp.GetMessage[] = [];
      while (taken.length < Math.min(limit, messageCount)) {
        const msg = await channel.get(this.#topology.parkingQueue, { noAck: false });
        if (msg === false) break;
        taken.push(msg);
      }
      for (const msg of taken) {
        const info = parkedMessageInfo(msg.properties, msg.fields);
        if (!info.routingKey) {
          kept += 1;
          channel.nack(msg, false, true);
          continue;
        }
        const headers: Record<string, unknown> = {
          ...(msg.properties.headers as Record<string, unknown> | undefined),
          [PARKED_HEADERS.routingKey]: info.routingKey,
          [PARKED_HEADERS.exchange]: info.exchange,
        };
        for (const name of [
          PARKED_HEADERS.reason,
          PARKED_HEADERS.detail,
          PARKED_HEADERS.parkedAt,
          'x-death',
          'x-first-death-reason',
          'x-first-death-queue',
          'x-first-death-exchange',
          'x-delivery-count',
        ]) {
          delete headers[name];
        }
        if (await publishConfirmed(channel, this.#topology.queue, msg, headers)) {
          channel.ack(msg);
          replayed += 1;
        } else {
          // The queue is gone (the service has not recreated it yet): the message stays parked.
          channel.nack(msg, false, true);
          kept += 1;
        }
      }
      return { replayed, kept };
    });
  }

  /** Messages in the parking queue now. */
  async count(): Promise<number> {
    return this.#withChannel(
      async (channel) => (await channel.checkQueue(this.#topology.parkingQueue)).messageCount,
    );
  }

  async #withChannel<R>(work: (channel: amqp.ConfirmChannel) => Promise<R>): Promise<R> {
    const connection = await amqp.connect(this.#url);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      const result = await work(channel);
      // Closing the channel first settles its acks on the queue before the connection goes.
      await channel.close();
      return result;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}

function describe(msg: amqp.GetMessage): ParkedInvalidation {
  const info = parkedMessageInfo(msg.properties, msg.fields);
  return {
    reason: info.reason,
    detail: info.detail,
    routingKey: info.routingKey,
    messageId: typeof msg.properties.messageId === 'string' ? msg.properties.messageId : undefined,
    bytes: msg.content.length,
    preview: msg.content
      .subarray(0, PREVIEW_CHARS * 4)
      .toString('utf8')
      .slice(0, PREVIEW_CHARS),
  };
}

/**
 * Publishes to `queue` through the default exchange and resolves once the broker confirmed it:
 * true when delivered to the queue, false when the broker returned it (no such queue). A
 * returned mandatory message is confirmed too, after its basic.return, so the return is known
 * by the time the confirm arrives.
 */
function publishConfirmed(
  channel: amqp.ConfirmChannel,
  queue: string,
  msg: amqp.GetMessage,
  headers: Record<string, unknown>,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const props = msg.properties;
    const messageId = typeof props.messageId === 'string' ? props.messageId : randomUUID();
    let returned = false;
    const onReturn = (ret: amqp.Message) => {
      if (ret.properties.messageId === messageId) returned = true;
    };
    channel.on('return', onReturn);
    channel.publish(
      '',
      queue,
      msg.content,
      {
        persistent: true,
        mandatory: true,
        messageId,
        ...(props.contentType ? { contentType: props.contentType } : {}),
        headers,
      },
      (err) => {
        channel.off('return', onReturn);
        if (err) reject(err);
        else resolve(!returned);
      },
    );
  });
}
