import * as amqp from 'amqplib';
import {
  PARKED_HEADERS,
  parkedMessageInfo,
  type InvalidationTopology,
  type ParkedReason,
} from './invalidation-topology';

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
   * Publishes up to `limit` parked messages again to their original exchange and routing key
   * (confirmed, mandatory) and removes each one once the broker confirmed it. Messages without
   * a known routing key stay parked. Messages parked while it runs (a replayed message that
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
        const headers = { ...(msg.properties.headers as Record<string, unknown> | undefined) };
        for (const name of [
          ...Object.values(PARKED_HEADERS),
          'x-death',
          'x-first-death-reason',
          'x-first-death-queue',
          'x-first-death-exchange',
          'x-delivery-count',
        ]) {
          delete headers[name];
        }
        await publishConfirmed(
          channel,
          info.exchange || this.#topology.exchange,
          info.routingKey,
          msg,
          headers,
        );
        channel.ack(msg);
        replayed += 1;
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

function publishConfirmed(
  channel: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  msg: amqp.GetMessage,
  headers: Record<string, unknown>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const props = msg.properties;
    channel.publish(
      exchange,
      routingKey,
      msg.content,
      {
        persistent: true,
        ...(props.contentType ? { contentType: props.contentType } : {}),
        ...(props.messageId ? { messageId: props.messageId } : {}),
        headers,
      },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}
