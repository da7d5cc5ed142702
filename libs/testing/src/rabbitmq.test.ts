import amqp from 'amqplib';
import { deleteRabbitObjects, rabbitUrl, uniqueName } from './index';

describe('RabbitMQ helpers', () => {
  let connection: amqp.ChannelModel;

  beforeAll(async () => {
    connection = await amqp.connect(rabbitUrl());
  });

  afterAll(async () => {
    await connection?.close();
  });

  async function queueExists(queue: string): Promise<boolean> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(queue);
      await channel.close();
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  }

  async function exchangeExists(exchange: string): Promise<boolean> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkExchange(exchange);
      await channel.close();
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  }

  it('makes names unique to the run', () => {
    const a = uniqueName('orders');
    expect(a).toMatch(new RegExp(`^memshop-test-orders-${process.pid}-[0-9a-f]+$`));
    expect(uniqueName('orders')).not.toBe(a);
  });

  it('deletes queues and exchanges and ignores ones that do not exist', async () => {
    const queue = uniqueName('q');
    const exchange = uniqueName('x');
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'fanout', { durable: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, '');
    await channel.close();
    expect(await queueExists(queue)).toBe(true);
    expect(await exchangeExists(exchange)).toBe(true);

    await deleteRabbitObjects({
      queues: [queue, uniqueName('never-declared')],
      exchanges: [exchange, uniqueName('nope')],
    });

    expect(await queueExists(queue)).toBe(false);
    expect(await exchangeExists(exchange)).toBe(false);
    await deleteRabbitObjects({ queues: [queue], exchanges: [exchange] });
  });
});
