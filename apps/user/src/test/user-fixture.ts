import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import {
  Cache,
  CacheAuditor,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
  type InvalidationEvent,
} from '@memshop/cache';
import { CACHE_CHANNEL_NAMES } from '@memshop/cache/advanced';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  memcachedCheck,
  rabbitmqCheck,
} from '@memshop/service-kit';
import { ApiContract, contractCheckedApp } from '@memshop/testing/contract';
import { rabbitUrl, withTestInfrastructure, type TcpProxy } from '@memshop/testing';
import type { Express } from 'express';
import { userApiDocument } from '../api/openapi';
import { createApp } from '../app';
import { userAuditSources } from '../data/user-audit';
import { UserCache } from '../data/user-cache';
import { UserRepository } from '../data/user-repository';
import { UserService } from '../domain/user-service';
import { createUserEventHandler, USER_EVENT_BINDINGS } from '../events/user-events';
import { PrismaClient } from '../prisma/generated/client';
import { seedUsers } from '../prisma/seed';

export interface UserFixture {
  /** The app behind a recorder that checks every response against user's OpenAPI document. */
  app: Express;
  /** What the responses so far were checked against; close() fails on any violation. */
  contract: ApiContract;
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
  return withTestInfrastructure(async (infra) => {
    const { waitForConsumed } = infra.consumed<InvalidationEvent>(CACHE_CHANNEL_NAMES.consume);
    const database = await infra.database('user', (databaseUrl) =>
      deployMigrations({ schemaPath: path.join(__dirname, '..', 'prisma', 'schema.prisma'), databaseUrl }),
    );
    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    infra.cleanup.add(() => adminPrisma.$disconnect());
    await seedUsers(adminPrisma, { users: opts.users ?? 20 });

    const { proxy: dbProxy, url: proxiedUrl } = await infra.proxy(database.url, 5432);

    const logger = createLogger({ service: 'user', level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
    const prisma = createPrismaClient(PrismaClient, {
      databaseUrl: proxiedUrl,
      logger,
      connectTimeoutMs: 1000,
    });
    infra.cleanup.add(() => prisma.$disconnect());
    const memcached = await infra.memcached(3);

    let clockOffsetMs = 0;
    const metrics = createServiceMetrics('user', { defaultMetrics: false });
    const cacheMetrics = createPromCacheMetrics(metrics.registry);
    const cluster = new CacheCluster({ servers: memcached.servers, logger, metrics: cacheMetrics });
    infra.cleanup.add(() => cluster.close());
    const cache = new Cache({
      cluster,
      logger,
      metrics: cacheMetrics,
      clock: () => Date.now() + clockOffsetMs,
    });
    infra.cleanup.add(() => cache.close());

    const { exchange, queue } = infra.rabbit({ exchange: 'user-x', queue: 'user-q' });
    const bus = new InvalidationBus({
      url: rabbitUrl(),
      service: 'user',
      exchange,
      queue,
      bindings: USER_EVENT_BINDINGS,
      logger,
    });
    infra.cleanup.add(() => bus.close());
    const relay = new OutboxRelay({
      db: prismaSqlExecutor(prisma),
      publisher: bus,
      logger,
      pollIntervalMs: 200,
    });
    infra.cleanup.add(() => relay.stop());

    const repository = new UserRepository(prisma);
    const userCache = new UserCache({ cache, schemaVersion: 1 });
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
      // Never started here: the route runs single passes, with no grace wait.
      audit: new CacheAuditor({ cache, sources: userAuditSources(prisma, userCache), graceMs: 0, logger }),
    });
    const contract = new ApiContract(userApiDocument(), { ignore: [/^\/docs\//] });
    return {
      app: contractCheckedApp(app, contract),
      contract,
      cache,
      cluster,
      userCache,
      repository,
      relay,
      waitForConsumed,
      eventReloads,
      adminPrisma,
      dbProxy,
      advanceClock: (ms) => {
        clockOffsetMs += ms;
      },
      close: async () => {
        await infra.close();
        contract.assertNoViolations();
      },
    };
  });
}
