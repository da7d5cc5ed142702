import type * as amqp from 'amqplib';
import { InvalidationPublishError, InvalidationUnroutableError } from './errors.js';

/**
 * One publish that resolves only on the broker's confirm; rejects on a nack, a timeout, or a
 * `basic.return` of the same message id (unroutable), which `returned` collects from the
 * channel's 'return' event.
 */
export function confirmPublish(
  channel: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqp.Options.Publish & { messageId: string },
  confirm: { timeoutMs: number; returned: Set<string> },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new InvalidationPublishError(`no broker confirm within ${confirm.timeoutMs} ms`)),
      confirm.timeoutMs,
    );
    try {
      channel.publish(exchange, routingKey, content, options, (err) => {
        clearTimeout(timer);
        // basic.return reaches us before the ack of the same message (AMQP ordering on a channel).
        const returned = confirm.returned.delete(options.messageId);
        if (err) reject(new InvalidationPublishError('broker nacked the publish', { cause: err }));
        else if (returned)
          reject(new InvalidationUnroutableError(`no queue is bound to ${exchange} ${routingKey}`));
        else resolve();
      });
    } catch (err) {
      clearTimeout(timer);
      reject(err);
    }
  });
}
