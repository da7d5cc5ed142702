import {
  createCacheRuntime,
  createLogger,
  createPrismaClient,
  createServiceMetrics,
  loadConfig,
  redactConfig,
  setupTracing,
  startService,
} from '@memshop/service-kit';
import { createApp } from './app';
import { userConfigSchema } from './config';
import { userAuditSources } from './data/user-audit';
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
  const prisma = createPrismaClient(PrismaClient, { databaseUrl: config.DATABASE_URL, logger });
  const runtime = createCacheRuntime({
    service: 'user',
    config,
    logger,
    registry: metrics.registry,
    prisma,
    bindings: USER_EVENT_BINDINGS,
  });
  const { cache, bus, relay } = runtime;

  const repository = new UserRepository(prisma);
  const userCache = new UserCache({ cache, schemaVersion: config.CACHE_SCHEMA_VERSION });
  const users = new UserService({
    repository,
    cache: userCache,
    afterCommit: (events) => relay.kick(events),
  });
  bus.subscribe(createUserEventHandler({ repository, cache: userCache, logger }));
  const auditor = runtime.createAuditor(userAuditSources(prisma, userCache));

  const app = createApp({
    users,
    logger,
    metrics,
    healthChecks: runtime.healthChecks,
    audit: auditor,
  });

  await bus.start();
  relay.start();
  if (runtime.auditEnabled) auditor.start();
  await startService({
    app,
    port: config.PORT,
    logger,
    closers: [...runtime.closers, { name: 'tracing', close: () => tracing.shutdown() }],
  });
}

main().catch((err: unknown) => {
  console.error('user-service failed to start:', err);
  process.exit(1);
});
