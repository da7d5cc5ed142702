import type {
  Cache,
  CacheAuditor,
  CacheCluster,
  InstanceInvalidationFeed,
  InvalidationBus,
  NearCache,
  OutboxRelay,
} from '@memshop/cache';
import type { PrismaPg } from '@prisma/adapter-pg';
import type { Express, RequestHandler } from 'express';
import type { z } from 'zod';
import type { AuthEnv } from './auth/auth-config';
import { authenticate } from './auth/authenticate';
import { TokenVerifier, type ServiceTokenAudience } from './auth/token-verifier';
import {
  createCacheRuntime,
  type CacheRuntime,
  type CacheRuntimePrisma,
  type CacheRuntimeTuning,
  type NearCacheRuntimeOptions,
} from './cache-runtime';
import { createAdminApp } from './admin-app';
import type { serviceEnvShape } from './config';
import type { HealthCheck } from './health';
import { createLogger, type Logger } from './logger';
import { createServiceMetrics, type ServiceMetrics } from './metrics';
import type { OutboxRelayThread } from './outbox-relay-thread';
import { createPrismaClient } from './prisma';
import { RequestRateLimits } from './request-rate-limits';
import { serviceHandle, type ServiceHandle } from './service-handle';

type ServiceEnv = z.infer<z.ZodObject<typeof serviceEnvShape>> & AuthEnv;

/**
 * What a test hands a composition root instead of what it would build from the env. Anything
 * the env can say (ports, queue names, intervals) goes through the config instead, so the
 * production parsing and defaults stay in the path.
 */
export interface ServiceOverrides {
  /** Default: a pino logger at LOG_LEVEL. */
  logger?: Logger;
  /** Default: the service's registry with Node's default metrics (tests leave those out). */
  metrics?: ServiceMetrics;
  /** Connect timeout of the service's Postgres pool (tests cutting the database use a short one). */
  databaseConnectTimeoutMs?: number;
  /** Connections in the service's Postgres pool (default 10; test harnesses use fewer). */
  databasePoolMax?: number;
  cache?: CacheRuntimeTuning;
}

/** The clients every service builds the same way, handed to its own wiring. */
export interface ServiceClients<P> {
  logger: Logger;
  metrics: ServiceMetrics;
  prisma: P;
  runtime: CacheRuntime;
  /**
   * Verifies the bearer token of every request that sends one (createServiceApp's `authenticate`);
   * the routes' guards (allow, requireAdmin, ...) decide what the principal may do.
   */
  authenticate: RequestHandler;
  /** The write and uncached-read budgets, for the app's `rateLimit` option. */
  rateLimits: RequestRateLimits;
  /** REQUEST_DEADLINE_MS, for the app's `requestDeadlineMs` option. */
  requestDeadlineMs: number;
}

/**
 * A loop or feed of the service's own (a sweeper, a flusher, a settler, a per-instance event
 * feed): started by start() once the bus is, closed first.
 */
export interface BackgroundTask {
  name: string;
  start(): void;
  close(): Promise<void>;
}

/** What a service's own wiring returns: its app, its auditor, its loops, and what tests may read. */
export interface ServiceWiring<E> {
  app: Express;
  auditor: CacheAuditor;
  /** What the admin port's /health/ready reports (the app's own checks). Default: the runtime's. */
  healthChecks?: Record<string, HealthCheck>;
  /** Closed in this order, before the auditor, relay, bus, cache and Prisma. */
  tasks?: BackgroundTask[];
  /** Run by start() before anything connects, e.g. reading a key file, so a bad one fails the start. */
  preflight?: Array<() => Promise<void>>;
  parts: E;
}

export interface ComposeServiceOptions<P> {
  service: string;
  config: ServiceEnv;
  /** The service's generated PrismaClient class. */
  PrismaClient: new (options: { adapter: PrismaPg }) => P;
  /** Routing-key patterns the service's queue consumes. */
  bindings: string[];
  /** Accept order-service's service tokens addressed to this service (catalog, user). */
  serviceTokens?: ServiceTokenAudience;
  /** Hot keys the service holds in process, in front of memcached. Default: none. */
  nearCache?: NearCacheRuntimeOptions;
  /** The channel its writes announce events on, published at commit by a relay thread. Default: none. */
  announceChannel?: string;
  overrides?: ServiceOverrides;
}

export type ComposedService<P, E> = ServiceHandle &
  E & {
    prisma: P;
    metrics: ServiceMetrics;
    cluster: CacheCluster;
    cache: Cache;
    bus: InvalidationBus;
    relay: OutboxRelay;
    relayThread: OutboxRelayThread | null;
    auditor: CacheAuditor;
    nearCache: NearCache | null;
    nearCacheFeed: InstanceInvalidationFeed | null;
  };

/**
 * The part of a composition root that is the same in every service: logger, metrics, Prisma,
 * the cache runtime, the rate limits and the token verifier from the config, then the service's own `wire`, the
 * admin app over its metrics and checks, then one start order (bus, relay, relay thread, loops, auditor) and
 * one shutdown order (see ServiceHandle.stop).
 */
export function composeService<P extends CacheRuntimePrisma, E extends object>(
  {
    service,
    config,
    PrismaClient,
    bindings,
    serviceTokens,
    nearCache,
    announceChannel,
    overrides = {},
  }: ComposeServiceOptions<P>,
  wire: (clients: ServiceClients<P>) => ServiceWiring<E>,
): ComposedService<P, E> {
  const logger = overrides.logger ?? createLogger({ service, level: config.LOG_LEVEL });
  const metrics = overrides.metrics ?? createServiceMetrics(service);
  const prisma = createPrismaClient(PrismaClient, {
    databaseUrl: config.DATABASE_URL,
    logger,
    connectTimeoutMs: overrides.databaseConnectTimeoutMs,
    poolMax: overrides.databasePoolMax,
  });
  const runtime = createCacheRuntime({
    service,
    config,
    logger,
    registry: metrics.registry,
    prisma,
    bindings,
    tuning: overrides.cache,
    nearCache,
    announceChannel,
  });
  const verifier = new TokenVerifier(config, serviceTokens);
  const rateLimits = new RequestRateLimits({
    service,
    cluster: runtime.cluster,
    settings: {
      windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
      perClient: config.RATE_LIMIT_PER_CLIENT,
      perSubject: config.RATE_LIMIT_PER_SUBJECT,
    },
    logger,
    metrics,
  });
  const {
    app,
    auditor,
    healthChecks,
    tasks = [],
    preflight = [],
    parts,
  } = wire({
    logger,
    metrics,
    prisma,
    runtime,
    rateLimits,
    authenticate: authenticate(verifier, logger),
    requestDeadlineMs: config.REQUEST_DEADLINE_MS,
  });
  const { cluster, cache, bus, relay } = runtime;
  const adminApp = createAdminApp({
    logger,
    metrics,
    health: { checks: healthChecks ?? runtime.healthChecks },
  });
  const handle = serviceHandle({
    app,
    adminApp,
    logger,
    async start() {
      await verifier.load();
      for (const check of preflight) await check();
      await bus.start();
      await runtime.nearCacheFeed?.start();
      relay.start();
      runtime.relayThread?.start();
      for (const task of tasks) task.start();
      if (runtime.auditEnabled) auditor.start();
    },
    closers: [...tasks.map((task) => ({ name: task.name, close: () => task.close() })), ...runtime.closers],
  });
  return Object.assign(handle, parts, {
    prisma,
    metrics,
    cluster,
    cache,
    bus,
    relay,
    relayThread: runtime.relayThread,
    auditor,
    nearCache: runtime.nearCache,
    nearCacheFeed: runtime.nearCacheFeed,
  });
}
