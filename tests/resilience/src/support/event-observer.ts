import { parseInvalidationEvent } from '@memshop/cache/advanced';
import { rabbitUrl } from '@memshop/testing';
import amqp from 'amqplib';

/**
 * A witness of what reached the exchange: its own exclusive queue, bound directly on the broker
 * (never through the proxy the test cuts), recording every event id it receives.
 */
export interface EventObserver {
  /** Distinct event ids received. */
  ids: Set<string>;
  /** Messages received, duplicates included (delivery is at-least-once). */
  deliveries(): number;
  close(): Promise<void>;
}

export async function observeEvents(exchange: string, pattern: string): Promise<EventObserver> {
  const connection = await amqp.connect(rabbitUrl());
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, pattern);
    const ids = new Set<string>();
    let deliveries = 0;
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        deliveries += 1;
        const event = parseInvalidationEvent(msg.content);
        if (event) ids.add(event.id);
      },
      { noAck: true },
    );
    return {
      ids,
      deliveries: () => deliveries,
      close: () => connection.close().catch(() => undefined),
    };
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
}
