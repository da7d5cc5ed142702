import { deployMigrations } from '@memshop/migrate';
import path from 'node:path';
import { type Cache, type CacheCluster, type InvalidationEvent, type OutboxRelay } from '@memshop/cache';
import {
  CACHE_CHANNELS,
  componentTestOverrides,
  createPrismaClient,
  parseConfig,
} from '@memshop/service-kit';
import { ApiContract, contractCheckedApp } from '@memshop/testing/contract';
import {
  bearer,
  createAuthKeys,
  loadedMachineMemcachedEnv,
  rabbitUrl,
  relaxedRateLimitEnv,
  withRecordedReads,
  withTestInfrastructure,
  type AuthKeys,
  type TcpProxy,
} from '@memshop/testing';
import type { Express } from 'express';
import { userApiDocument } from '../api/openapi';
import { userConfigSchema } from '../config';
import type { UserCache } from '../data/user-cache';
import type { UserRepository } from '../data/user-repository';
import { PrismaClient } from '../prisma/generated/client';
import { seedUsers } from '../prisma/seed';
import { createUserService } from '../user';

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
  /** The keys the service trusts: `auth.userToken(id)` for a user's own token. */
  auth: AuthKeys;
  /** Authorization headers (`.set(f.as.admin)`): an admin, and order-service (valid 5 min). */
  as: { admin: { authorization: string }; orderService: { authorization: string } };
  close(): Promise<void>;
}

/**
 * user-service built by its composition root, as main.ts builds it, against a fresh database (seeded with `users`
 * users), three memcached nodes and RabbitMQ names unique to this run; the service reaches
 * Postgres through a TCP proxy the test can cut.
 */
export async function startUserFixture(opts: { users?: number } = {}): Promise<UserFixture> {
  return withTestInfrastructure(async (infra) => {
    const { waitForConsumed } = infra.consumed<InvalidationEvent>(CACHE_CHANNELS.consume);
    const database = await infra.database('user', (databaseUrl) =>
      deployMigrations({ schemaPath: path.join(__dirname, '..', 'prisma', 'schema.prisma'), databaseUrl }),
    );
    const adminPrisma = createPrismaClient(PrismaClient, { databaseUrl: database.url });
    infra.cleanup.add(() => adminPrisma.$disconnect());
    await seedUsers(adminPrisma, { users: opts.users ?? 20 });

    const { proxy: dbProxy, url: proxiedUrl } = await infra.proxy(database.url, 5432);
    const memcached = await infra.memcached(3);
    const { exchange, queue } = infra.rabbit({ exchange: 'user-x', queue: 'user-q' });
    const auth = await createAuthKeys();
    infra.cleanup.add(() => auth.remove());
    const config = parseConfig(userConfigSchema, {
      ...auth.envFor('user'),
      DATABASE_URL: proxiedUrl,
      MEMCACHED_SERVERS: memcached.servers.join(','),
      RABBITMQ_URL: rabbitUrl(),
      INVALIDATION_EXCHANGE: exchange,
      INVALIDATION_QUEUE: queue,
      // Tests run single audit passes through the route, with no grace wait.
      CACHE_AUDIT_SAMPLE_SIZE: '0',
      CACHE_AUDIT_GRACE_MS: '0',
      ...loadedMachineMemcachedEnv,
      ...relaxedRateLimitEnv,
    });

    const { overrides, advanceClock } = componentTestOverrides('user');
    const eventReloads: number[] = [];
    const service = createUserService(config, {
      ...overrides,
      eventRepository: (repository) => withRecordedReads(repository, 'findUser', eventReloads),
    });
    await infra.start(service, 'user');

    const contract = new ApiContract(userApiDocument(), { ignore: [/^\/docs\//] });
    const as = {
      admin: bearer(await auth.adminToken(1, { expiresInSeconds: 3600 })),
      orderService: bearer(await auth.serviceToken('user')),
    };
    return {
      app: contractCheckedApp(service.app, contract),
      contract,
      cache: service.cache,
      cluster: service.cluster,
      userCache: service.userCache,
      repository: service.repository,
      relay: service.relay,
      waitForConsumed,
      eventReloads,
      adminPrisma,
      dbProxy,
      advanceClock,
      auth,
      as,
      close: async () => {
        await infra.close();
        contract.assertNoViolations();
      },
    };
  });
}
