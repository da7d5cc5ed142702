import {
  Cache,
  CacheCluster,
  createPromCacheMetrics,
  InvalidationBus,
  OutboxRelay,
  prismaSqlExecutor,
} from '@memshop/cache';
import {
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  databaseCheck,
  loadConfig,
  memcachedCheck,
  rabbitmqCheck,
  redactConfig,
  setupTracing,
  startService,
} from '@memshop/service-kit';
import { createApp } from './app';
import { userConfigSchema } from './config';
import { UserCache } from './data/user-cache';
import { UserRepository } from './data/user-repository';
import { UserService } from './domain/user-service';
import { createUserEventHandler, USER_EVENT_BINDINGS } from './events/user-events';
import { PrismaClient } from './prisma/generated/client';

async function main(): Promise<void> {
  const config = loadConfig(userConfigSchema);
  const tracing = setupTracing({
    serviceName: 'user',
    serviceInstanceId: config.SERVICE_INSTANCE_ID,
    exporter: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const logger = createLogger({ service: 'user', level: config.LOG_LEVEL });
  logger.info({ config: redactConfig(config) }, 'starting');

  const metrics = createServiceMetrics('user');
  const cacheMetrics = createPromCacheMetrics(metrics.registry);
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
  const cluster = new CacheCluster({
    servers: config.MEMCACHED_SERVERS,
    gutterServers: config.MEMCACHED_GUTTER_SERVERS.length > 0 ? config.MEMCACHED_GUTTER_SERVERS : undefined,
    username: config.MEMCACHED_USERNAME,
    password: config.MEMCACHED_PASSWORD,
    logger,
    metrics: cacheMetrics,
  });
  const cache = new Cache({ cluster, logger, metrics: cacheMetrics });
  const bus = new InvalidationBus({
    url: config.RABBITMQ_URL,
    service: 'user',
    exchange: config.INVALIDATION_EXCHANGE,
    queue: config.INVALIDATION_QUEUE,
    bindings: USER_EVENT_BINDINGS,
    logger,
    metrics: cacheMetrics,
  });
  const relay = new OutboxRelay({
    db: prismaSqlExecutor(prisma),
    publisher: bus,
    logger,
    metrics: cacheMetrics,
  });

  const repository = new UserRepository(prisma);
  const userCache = new UserCache({ cache, schemaVersion: config.CACHE_SCHEMA_VERSION, store: cluster });
  const users = new UserService({
    repository,
    cache: userCache,
    afterCommit: (events) => relay.kick(events),
  });
  bus.subscribe(createUserEventHandler({ repository, cache: userCache, logger }));

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

  await bus.start();
  relay.start();
  await startService({
    app,
    port: config.PORT,
    logger,
    closers: [
      { name: 'outbox-relay', close: () => relay.stop() },
      { name: 'invalidation-bus', close: () => bus.close() },
      { name: 'cache', close: () => cache.close() },
      { name: 'memcached', close: () => cluster.close() },
      { name: 'prisma', close: () => prisma.$disconnect() },
      { name: 'tracing', close: () => tracing.shutdown() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error('user-service failed to start:', err);
  process.exit(1);
});
