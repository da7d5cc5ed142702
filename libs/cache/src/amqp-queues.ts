import type * as amqp from 'amqplib';
import type { LoggerLike } from './logger.js';

/** A passive check: a missing queue closes the channel it was asked on, hence one of its own. */
export async function queueExists(model: amqp.ChannelModel, queue: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkQueue(queue);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return false;
    throw err;
  } finally {
    // After a 404 the broker already closed it; the catch covers that.
    await channel.close().catch(() => undefined);
  }
}

/**
 * Earlier versions declared a classic queue under another name. Its bindings still copy every
 * event into it, so it is deleted once the quorum queue is bound (from then on every event
 * reaches the new queue). Events it held are lost with it: they are logged as a count, the
 * gap rule covered the restart, and the staleness auditor reports what they leave behind.
 */
export async function retireLegacyQueue(
  model: amqp.ChannelModel,
  legacy: string,
  replacement: string,
  logger: LoggerLike,
): Promise<void> {
  // A passive check of a missing queue closes its channel, hence a channel of its own.
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    try {
      await channel.checkQueue(legacy);
    } catch {
      return;
    }
    const { messageCount } = await channel.deleteQueue(legacy);
    logger.warn(
      { queue: legacy, messageCount, replacement },
      'classic invalidation queue of an earlier version deleted',
    );
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** `heartbeat=10` unless the URL sets one, so a dead peer is noticed in ~20 s, not minutes. */
export function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', '10');
    return parsed.toString();
  } catch {
    return url;
  }
}
