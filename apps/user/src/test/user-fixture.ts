import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import {
  Cache,
  CACHE_CHANNEL_NAMES,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
  type InvalidationEvent,
} from '@memshop/cache';
import { deployMigrations } from '@memshop/migrate';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  memcachedCheck,
  rabbitmqCheck,
} from '@memshop/service-kit';
import {
  createTestDatabase,
  deleteRabbitObjects,
  rabbitUrl,
  startMemcachedCluster,
  startTcpProxy,
  uniqueName,
  waitFor,
  type TcpProxy,
} from '@memshop/testing';
import type { Express } from 'express';
import { createApp } from '../app';
import { UserCache } from '../data/user-cache';
import { UserRepository } from '../data/user-repository';
import { UserService } from '../domain/user-service';
import { createUserEventHandler, USER_EVENT_BINDINGS } from '../events/user-events';
import { PrismaClient } from '../prisma/generated/client';
import { seedUsers } from '../prisma/seed';

export interface UserFixture {
  app: Express;
  cache: Cache;
  cluster: CacheCluster;
  userCache: UserCache;
  repository: UserRepository;
  relay: OutboxRelay;
  /** Resolves once the service's own consumer has handled an event matching `match`. */
  waitForConsumed(match: (event: InvalidationEvent) => boolean, what: string): Promise<InvalidationEvent>;
  /** Users the event consumer has read from Postgres (refreshes), by id. */
  eventReloads: number[];
  adminPrisma: PrismaClient;
  dbProxy: TcpProxy;
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

/**
 * user-service wired as main.ts wires it, against a fresh database (seeded with `users`
 * users), three memcached nodes and RabbitMQ names unique to this run; the service reaches
 * Postgres through a TCP proxy the test can cut.
 */
export async function startUserFixture(opts: { users?: number } = {}): Promise<UserFixture> {
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
    const database = await createTestDatabase('user');
    cleanups.push(() => database.drop());
    await deployMigrations({
      schemaPath: path.join(__dirname, '..', 'prisma', 'schema.prisma'),
      databaseUrl: database.url,
    });
    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    cleanups.push(() => adminPrisma.$disconnect());
    await seedUsers(adminPrisma, { users: opts.users ?? 20 });

    const url = new URL(database.url);
    const dbProxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => dbProxy.close());
    url.hostname = dbProxy.host;
    url.port = String(dbProxy.port);

    const logger = createLogger({ service: 'user', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
    const prisma = createPrismaClient(PrismaClient, {
      databaseUrl: url.toString(),
      logger,
      connectTimeoutMs: 1000,
    });
    cleanups.push(() => prisma.$disconnect());
    const memcached = await startMemcachedCluster(3);
    cleanups.push(() => memcached.stop());

    let clockOffsetMs = 0;
    const metrics = createServiceMetrics('user', { defaultMetrics: false });
    const cacheMetrics = createPromCacheMetrics(metrics.registry);
    const cluster = new CacheCluster({ servers: memcached.servers, logger, metrics: cacheMetrics });
    cleanups.push(() => cluster.close());
    const cache = new Cache({
      cluster,
      logger,
      metrics: cacheMetrics,
      clock: () => Date.now() + clockOffsetMs,
    });
    cleanups.push(() => cache.close());

    const exchange = uniqueName('user-x');
    const queue = uniqueName('user-q');
    cleanups.push(() => deleteRabbitObjects({ queues: [queue], exchanges: [exchange] }));
    const bus = new InvalidationBus({
      url: rabbitUrl(),
      service: 'user',
      exchange,
      queue,
      bindings: USER_EVENT_BINDINGS,
      logger,
    });
    cleanups.push(() => bus.close());
    const relay = new OutboxRelay({
      db: prismaSqlExecutor(prisma),
      publisher: bus,
      logger,
      pollIntervalMs: 200,
    });
    cleanups.push(() => relay.stop());

    const repository = new UserRepository(prisma);
    const userCache = new UserCache({ cache, schemaVersion: 1, store: cluster });
    const users = new UserService({
      repository,
      cache: userCache,
      afterCommit: (events) => relay.kick(events),
    });
    const eventReloads: number[] = [];
    const countingRepository = {
      findUser: (id: number) => {
        eventReloads.push(id);
        return repository.findUser(id);
      },
    };
    bus.subscribe(createUserEventHandler({ repository: countingRepository, cache: userCache, logger }));
    await bus.start();
    if (!(await bus.waitUntilConnected(10_000))) throw new Error('RabbitMQ did not connect');
    relay.start();

    const app = createApp({
      users,
      logger,
      metrics,
      healthChecks: {
        database: databaseCheck(prisma),
        memcached: memcachedCheck(cluster),
        rabbitmq: rabbitmqCheck(() => bus.connected),
      },
    });
    return {
      app,
      cache,
      cluster,
      userCache,
      repository,
      relay,
      waitForConsumed: (match, what) =>
        waitFor(() => consumed.find(match), { timeoutMs: 15_000, intervalMs: 10, message: what }),
      eventReloads,
      adminPrisma,
      dbProxy,
      advanceClock: (ms) => {
        clockOffsetMs += ms;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
