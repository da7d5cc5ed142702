import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';

const DEFAULT_RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

export function rabbitUrl(): string {
  return process.env.RABBITMQ_URL ?? DEFAULT_RABBITMQ_URL;
}

/**
 * A queue/exchange name no other run or test file uses, so parallel runs on one broker never
 * see each other's messages: 'memshop-test-<prefix>-<pid>-<random>'.
 */
export function uniqueName(prefix: string): string {
  return `memshop-test-${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * The queues and exchanges a consuming InvalidationBus declares for the given ones with its
 * default names (`<queue>.parked`, `<exchange>.dead-letter`), so a test that names the main
 * objects deletes every one the bus made.
 */
export function withDeadLetterObjects(opts: { queues?: string[]; exchanges?: string[] }): {
  queues: string[];
  exchanges: string[];
} {
  const queues = opts.queues ?? [];
  const exchanges = opts.exchanges ?? [];
  return {
    queues: [...queues, ...queues.map((q) => `${q}.parked`)],
    exchanges: [...exchanges, ...exchanges.map((x) => `${x}.dead-letter`)],
  };
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 404;
}

/** Deletes the queues and exchanges a test declared; ones that do not exist are skipped. */
export async function deleteRabbitObjects(opts: { queues?: string[]; exchanges?: string[] }): Promise<void> {
  const connection = await amqp.connect(rabbitUrl());
  connection.on('error', () => undefined);
  try {
    // A failed delete closes its channel, so every delete gets a channel of its own.
    const onFreshChannel = async (action: (channel: amqp.Channel) => Promise<unknown>): Promise<void> => {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await action(channel);
        await channel.close();
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    };
    for (const queue of opts.queues ?? []) await onFreshChannel((channel) => channel.deleteQueue(queue));
    for (const exchange of opts.exchanges ?? [])
      await onFreshChannel((channel) => channel.deleteExchange(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
