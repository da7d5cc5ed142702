import diagnosticsChannel from 'node:diagnostics_channel';
import os from 'node:os';
import path from 'node:path';
import { CACHE_CHANNEL_NAMES, type InvalidationEvent } from '@memshop/cache';
import { deployMigrations } from '@memshop/migrate';
import { createLogger, parseConfig } from '@memshop/service-kit';
import {
  createTestDatabase,
  deleteRabbitObjects,
  startMemcachedCluster,
  startTcpProxy,
  uniqueName,
  waitFor,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import { startStack, type Stack } from '../../../../scripts/stack';
import { orderConfigSchema } from '../config';
import { createOrderService, type OrderService } from '../order-service';

export const SCHEMA_PATH = path.join(__dirname, '..', 'prisma', 'schema.prisma');

export interface OrderFixture {
  service: OrderService;
  /** Real catalog and user processes (fresh databases, seeded), on free ports. */
  stack: Stack;
  catalogUrl: string;
  userUrl: string;
  /** Between order-service and catalog: cut() makes catalog unreachable for order only. */
  catalogProxy: TcpProxy;
  /** Between order-service and RabbitMQ: cut() disconnects order's consumer (a gap in its event feed). */
  rabbitProxy: TcpProxy;
  /** catalog's database, for changes made behind catalog's back. */
  catalogDatabaseUrl: string;
  memcached: MemcachedCluster;
  database: TestDatabase;
  /** Events order-service's consumer has handled since the fixture started. */
  consumed: InvalidationEvent[];
  /** Resolves once order-service has handled an event matching `match`. */
  waitForConsumed(match: (event: InvalidationEvent) => boolean, what: string): Promise<InvalidationEvent>;
  close(): Promise<void>;
}

/**
 * order-service in-process (supertest drives its app) against real neighbours: catalog and user
 * as child processes via startStack (fresh databases, an exchange and queues of their own), three
 * memcached nodes shared by all, a fresh order database. close() removes all of it.
 */
export async function startOrderFixture(): Promise<OrderFixture> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const consumed: InvalidationEvent[] = [];
  const onConsume = (message: unknown) => {
    const { event, ok } = message as { event: InvalidationEvent; ok: boolean };
    if (ok) consumed.push(event);
  };
  diagnosticsChannel.subscribe(CACHE_CHANNEL_NAMES.consume, onConsume);
  cleanups.push(async () => diagnosticsChannel.unsubscribe(CACHE_CHANNEL_NAMES.consume, onConsume));
  try {
    const memcached = await startMemcachedCluster(3);
    cleanups.push(() => memcached.stop());

    const stack = await startStack({
      services: ['catalog', 'user'],
      ports: { catalog: 0, user: 0 },
      databases: 'fresh',
      rabbit: 'isolated',
      memcached: { servers: memcached.servers },
      logLevel: 'warn',
      logDir: path.join(os.tmpdir(), uniqueName('order-test-logs')),
    });
    cleanups.push(() => stack.stop());

    const database = await createTestDatabase('order');
    cleanups.push(() => database.drop());
    await deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl: database.url });

    const catalogAddress = new URL(stack.urls.catalog);
    const catalogProxy = await startTcpProxy({
      host: catalogAddress.hostname,
      port: Number(catalogAddress.port),
    });
    cleanups.push(() => catalogProxy.close());

    const rabbitUrl = new URL(stack.rabbit.url);
    const rabbitProxy = await startTcpProxy({
      host: rabbitUrl.hostname,
      port: Number(rabbitUrl.port || 5672),
    });
    cleanups.push(() => rabbitProxy.close());
    rabbitUrl.hostname = rabbitProxy.host;
    rabbitUrl.port = String(rabbitProxy.port);

    const queue = uniqueName('order-queue');
    cleanups.push(() => deleteRabbitObjects({ queues: [queue] }));
    const config = parseConfig(orderConfigSchema, {
      DATABASE_URL: database.url,
      MEMCACHED_SERVERS: memcached.servers.join(','),
      RABBITMQ_URL: rabbitUrl.toString(),
      CATALOG_URL: `http://${catalogProxy.host}:${catalogProxy.port}`,
      USER_URL: stack.urls.user,
      INVALIDATION_EXCHANGE: stack.rabbit.exchange,
      INVALIDATION_QUEUE: queue,
      UPSTREAM_TIMEOUT_MS: '1000',
    });
    const logger = createLogger({ service: 'order', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
    const service = createOrderService(config, { logger });
    cleanups.push(async () => {
      for (const closer of service.closers) await closer.close();
    });
    await service.start();
    if (!(await service.bus.waitUntilConnected(10_000)))
      throw new Error('order-service did not connect to RabbitMQ');

    return {
      service,
      stack,
      catalogUrl: stack.urls.catalog,
      userUrl: stack.urls.user,
      catalogProxy,
      rabbitProxy,
      catalogDatabaseUrl: stack.databases.catalog.url,
      memcached,
      database,
      consumed,
      waitForConsumed: (match, what) =>
        waitFor(() => consumed.find(match), { timeoutMs: 15_000, intervalMs: 10, message: what }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
