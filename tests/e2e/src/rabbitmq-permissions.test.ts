/**
 * infra/rabbitmq/service-user.sh against the real local broker (through rabbitmqctl, as compose
 * runs it): in a throwaway vhost each service's user runs the library's own InvalidationBus
 * (declares its exchanges and queues, binds, publishes, consumes) and the per-instance feeds
 * (near cache, early purge), and is refused
 * (ACCESS_REFUSED, 403) on another service's queues and on objects that are nobody's. The
 * vhost and the users are named memshop_test_* and deleted in afterAll.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import {
  InstanceInvalidationFeed,
  InvalidationBus,
  createInvalidationEvent,
  type InvalidationEvent,
} from '@memshop/cache';
import { waitFor } from '@memshop/testing';
import amqp from 'amqplib';
import { repoPath } from './deploy-contract';
import { BROKER_NAME_PREFIX } from '@memshop/service-kit';

const run = promisify(execFile);
const SERVICES = ['catalog', 'user', 'order'] as const;
type Service = (typeof SERVICES)[number];

const suffix = randomBytes(4).toString('hex');
const vhost = `memshop_test_vhost_${suffix}`;
const username = (service: Service) => `memshop_test_${service}_${suffix}`;
const passwords = new Map(SERVICES.map((s) => [s, randomBytes(12).toString('hex')]));
const broker = new URL(process.env.RABBITMQ_URL ?? 'amqp://127.0.0.1:5672');

function urlFor(service: Service): string {
  const url = new URL(broker.toString());
  url.username = username(service);
  url.password = passwords.get(service)!;
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}

const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', ['--quiet', ...args]);
// Every rabbitmqctl call starts an Erlang VM (seconds each on a busy 2-core box).
const RABBITMQCTL_HOOK_TIMEOUT_MS = 300_000;

/** The AMQP reply code a broker operation fails with on a fresh channel, or 'ok'. */
async function replyCode(service: Service, action: (channel: amqp.Channel) => Promise<unknown>) {
  const connection = await amqp.connect(urlFor(service));
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await action(channel);
      return 'ok';
    } catch (err) {
      return (err as { code?: number }).code;
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

beforeAll(async () => {
  await rabbitmqctl('add_vhost', vhost);
  for (const service of SERVICES) {
    await run(repoPath('infra/rabbitmq/service-user.sh'), [service, username(service)], {
      env: { ...process.env, RABBITMQ_VHOST: vhost, SERVICE_PASSWORD: passwords.get(service) },
    });
  }
}, RABBITMQCTL_HOOK_TIMEOUT_MS);

afterAll(async () => {
  // Deleting the vhost deletes every queue, exchange and permission in it.
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
  for (const service of SERVICES) await rabbitmqctl('delete_user', username(service)).catch(() => undefined);
}, RABBITMQCTL_HOOK_TIMEOUT_MS);

/** An event no consumer acts on: these tests only show where it may go. */
const probeEvent = (service: Service, entityId: string) =>
  createInvalidationEvent({ source: service, entity: 'probe', action: 'updated', entityId });

describe.each(SERVICES)('%s: its own RabbitMQ user', (service) => {
  test('runs the invalidation bus: declares, binds, publishes and consumes its own queue', async () => {
    const received: InvalidationEvent[] = [];
    const bus = new InvalidationBus({
      url: urlFor(service),
      service,
      bindings: ['#'],
      namePrefix: BROKER_NAME_PREFIX,
    });
    bus.subscribe(async (event) => {
      received.push(event);
    });
    try {
      await bus.start();
      expect(await bus.waitUntilConnected(10_000)).toBe(true);
      expect(bus.queue).toBe(`memshop.${service}.invalidation.quorum`);
      const event = probeEvent(service, '1');
      await bus.publish(event);
      await waitFor(() => received.some((e) => e.id === event.id), {
        message: `${service} to receive its own event`,
      });
    } finally {
      await bus.close();
    }
  });

  // `near`: the near cache's feed (its default name); `purge`: order-service's early purge.
  test.each(service === 'order' ? ['near', 'purge'] : ['near'])(
    "runs an instance's own feed (%s): its exclusive queue, bound to the exchange",
    async (kind) => {
      const heard: InvalidationEvent[] = [];
      const feed = new InstanceInvalidationFeed({
        url: urlFor(service),
        service,
        namePrefix: BROKER_NAME_PREFIX,
        ...(kind === 'near' ? {} : { queuePrefix: `${BROKER_NAME_PREFIX}.${service}.${kind}` }),
        bindings: ['#'],
        onEvent: (event) => heard.push(event),
      });
      const publisher = new InvalidationBus({
        url: urlFor(service),
        service,
        namePrefix: BROKER_NAME_PREFIX,
      });
      try {
        await feed.start();
        expect(await feed.waitUntilConnected(10_000)).toBe(true);
        await publisher.start();
        expect(await publisher.waitUntilConnected(10_000)).toBe(true);
        const event = probeEvent(service, '2');
        await publisher.publish(event);
        await waitFor(() => heard.some((e) => e.id === event.id), {
          message: `${service}'s feed to hear its event`,
        });
      } finally {
        await publisher.close();
        await feed.close();
      }
    },
  );

  test("is refused (403 ACCESS_REFUSED) on another service's queues", async () => {
    for (const other of SERVICES.filter((s) => s !== service)) {
      const queue = `memshop.${other}.invalidation.quorum`;
      const attempts = {
        declare: await replyCode(service, (c) =>
          c.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
        ),
        declareParking: await replyCode(service, (c) =>
          c.assertQueue(`${queue}.parked`, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
        ),
        bind: await replyCode(service, (c) => c.bindQueue(queue, 'memshop.invalidation', '#')),
        consume: await replyCode(service, (c) => c.consume(queue, () => undefined)),
        purge: await replyCode(service, (c) => c.purgeQueue(queue)),
        delete: await replyCode(service, (c) => c.deleteQueue(queue)),
        declareNear: await replyCode(service, (c) =>
          c.assertQueue(`memshop.${other}.near.${randomUUID()}`, { exclusive: true, autoDelete: true }),
        ),
        declarePurge: await replyCode(service, (c) =>
          c.assertQueue(`memshop.${other}.purge.${randomUUID()}`, { exclusive: true, autoDelete: true }),
        ),
      };
      expect({ other, attempts }).toEqual({
        other,
        attempts: {
          declare: 403,
          declareParking: 403,
          bind: 403,
          consume: 403,
          purge: 403,
          delete: 403,
          declareNear: 403,
          declarePurge: 403,
        },
      });
    }
  });

  test('is refused on objects that belong to no service, and on the default exchange', async () => {
    const attempts = {
      // Only order-service runs an early purge.
      ...(service === 'order'
        ? {}
        : {
            purgeQueue: await replyCode(service, (c) =>
              c.assertQueue(`memshop.${service}.purge.${randomUUID()}`, {
                exclusive: true,
                autoDelete: true,
              }),
            ),
          }),
      queue: await replyCode(service, (c) => c.assertQueue('memshop.unrelated')),
      serverNamed: await replyCode(service, (c) => c.assertQueue('', { exclusive: true })),
      exchange: await replyCode(service, (c) => c.assertExchange('memshop.unrelated', 'fanout')),
      defaultExchange: await replyCode(service, async (c) => {
        c.sendToQueue(`memshop.${service}.invalidation.quorum`, Buffer.from('{}'));
        // A refused publish closes the channel asynchronously; a round trip surfaces it.
        await c.checkExchange('memshop.invalidation');
      }),
    };
    expect(attempts).toEqual({
      ...(service === 'order' ? {} : { purgeQueue: 403 }),
      queue: 403,
      serverNamed: 403,
      exchange: 403,
      defaultExchange: 403,
    });
  });
});

test(
  'running the script again changes the password and keeps the permissions (compose reruns it)',
  async () => {
    const previous = passwords.get('order')!;
    passwords.set('order', randomBytes(12).toString('hex'));
    await run(repoPath('infra/rabbitmq/service-user.sh'), ['order', username('order')], {
      env: { ...process.env, RABBITMQ_VHOST: vhost, SERVICE_PASSWORD: passwords.get('order') },
    });
    expect(await replyCode('order', (c) => c.checkExchange('memshop.invalidation'))).toBe('ok');
    expect(await replyCode('order', (c) => c.assertQueue('memshop.catalog.invalidation.quorum'))).toBe(403);
    const old = new URL(urlFor('order'));
    old.password = previous;
    await expect(amqp.connect(old.toString())).rejects.toThrow(/ACCESS_REFUSED|403|ConnectionClose/);
  },
  RABBITMQCTL_HOOK_TIMEOUT_MS,
);

test('a service user has no access to any other vhost', async () => {
  const other = new URL(urlFor('catalog'));
  other.pathname = '/';
  // The broker closes the connection during the handshake (not_allowed, 530).
  await expect(amqp.connect(other.toString())).rejects.toThrow(/ConnectionClose|NOT_ALLOWED|530/);
});
