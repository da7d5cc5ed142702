import { deployMigrations } from '@memshop/migrate';
import os from 'node:os';
import path from 'node:path';
import { type InvalidationEvent } from '@memshop/cache';
import { CACHE_CHANNELS, componentTestOverrides, parseConfig } from '@memshop/service-kit';
import { ApiContract, contractCheckedApp } from '@memshop/testing/contract';
import {
  bearer,
  loadedMachineMemcachedEnv,
  relaxedRateLimitEnv,
  uniqueName,
  withTestInfrastructure,
  type AuthKeys,
  type MemcachedCluster,
  type TcpProxy,
  type TestDatabase,
} from '@memshop/testing';
import { startStack, type Stack } from '../../../../scripts/stack';
import { orderApiDocument } from '../api/openapi';
import { orderConfigSchema } from '../config';
import { createOrderService, type OrderService } from '../order';

export const SCHEMA_PATH = path.join(__dirname, '..', 'prisma', 'schema.prisma');

export interface OrderFixture {
  /** order-service; its `app` sits behind a recorder that checks every response against order's OpenAPI document. */
  service: OrderService;
  /** What the responses so far were checked against; close() fails on any violation. */
  contract: ApiContract;
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
  /** order-service's invalidation queue: a test can deliver an event to order-service alone. */
  orderQueue: string;
  memcached: MemcachedCluster;
  database: TestDatabase;
  /** Events order-service's consumer has handled since the fixture started. */
  consumed: InvalidationEvent[];
  /** Resolves once order-service has handled an event matching `match`. */
  waitForConsumed(match: (event: InvalidationEvent) => boolean, what: string): Promise<InvalidationEvent>;
  /** The keys all three trust (the stack's). */
  auth: AuthKeys;
  /**
   * Authorization headers: `.set(f.as.admin)` (reads any order, writes in catalog and user),
   * `.set(await f.as.user(id))` (places and reads that user's orders).
   */
  as: { admin: { authorization: string }; user(id: number): Promise<{ authorization: string }> };
  close(): Promise<void>;
}

/**
 * order-service in-process (supertest drives its app) against real neighbours: catalog and user
 * as child processes via startStack (fresh databases, an exchange and queues of their own), three
 * memcached nodes shared by all, a fresh order database. close() removes all of it.
 */
export interface OrderFixtureOptions {
  /** order-service env on top of the fixture's (e.g. UPSTREAM_TIMEOUT_MS, ORDER_SETTLE_*). */
  env?: Record<string, string>;
  /** Env of the catalog and user processes (e.g. STOCK_RESERVATION_SWEEP_INTERVAL_MS). */
  upstreamEnv?: Record<string, string>;
}

export async function startOrderFixture(opts: OrderFixtureOptions = {}): Promise<OrderFixture> {
  return withTestInfrastructure(async (infra) => {
    const { consumed, waitForConsumed } = infra.consumed<InvalidationEvent>(CACHE_CHANNELS.consume);
    const memcached = await infra.memcached(3);

    const stack = await startStack({
      services: ['catalog', 'user'],
      ports: { catalog: 0, user: 0 },
      databases: 'fresh',
      rabbit: 'isolated',
      memcached: { servers: memcached.servers },
      logLevel: 'warn',
      env: {
        ...relaxedRateLimitEnv,
        ...loadedMachineMemcachedEnv,
        // The writers' own purge of order's copies is off: these tests are about what order-service
        // does with the events (floors, the gap rule, a lost queue), which that purge would hide.
        // Its own tests are catalog's and user-service's, and the e2e workflow.
        INVALIDATION_PRODUCT_COPIES: '',
        INVALIDATION_USER_COPIES: '',
        ...opts.upstreamEnv,
      },
      logDir: path.join(os.tmpdir(), uniqueName('order-test-logs')),
    });
    infra.cleanup.add(() => stack.stop());

    const database = await infra.database('order', (databaseUrl) =>
      deployMigrations({ schemaPath: SCHEMA_PATH, databaseUrl }),
    );

    const { proxy: catalogProxy } = await infra.proxy(stack.urls.catalog, 80);
    const { proxy: rabbitProxy, url: rabbitUrl } = await infra.proxy(stack.rabbit.url, 5672);
    const { queue } = infra.rabbit({ queue: 'order-queue' });
    const config = parseConfig(orderConfigSchema, {
      ...stack.auth.envFor('order'),
      DATABASE_URL: database.url,
      MEMCACHED_SERVERS: memcached.servers.join(','),
      RABBITMQ_URL: rabbitUrl,
      CATALOG_URL: `http://${catalogProxy.host}:${catalogProxy.port}`,
      USER_URL: stack.urls.user,
      INVALIDATION_EXCHANGE: stack.rabbit.exchange,
      INVALIDATION_QUEUE: queue,
      // Far above any answer of a healthy catalog or user on a loaded 2-core CI machine (seconds
      // at load 20): a call that hits it turns a 201 into a 202, or a lookup into a 503, so only
      // a suite that owns a slow-catalog fault sets it lower.
      UPSTREAM_TIMEOUT_MS: '10000',
      ...loadedMachineMemcachedEnv,
      ...relaxedRateLimitEnv,
      ...opts.env,
    });
    const service = createOrderService(config, componentTestOverrides('order').overrides);
    await infra.start(service, 'order-service');

    const contract = new ApiContract(orderApiDocument(), { ignore: [/^\/docs\//] });
    const userHeaders = new Map<number, Promise<{ authorization: string }>>();
    const as = {
      admin: bearer(await stack.auth.adminToken(1, { expiresInSeconds: 3600 })),
      user: (id: number) => {
        let header = userHeaders.get(id);
        if (!header) {
          header = stack.auth.userToken(id, { expiresInSeconds: 3600 }).then(bearer);
          userHeaders.set(id, header);
        }
        return header;
      },
    };
    service.app = contractCheckedApp(service.app, contract);
    return {
      service,
      contract,
      stack,
      catalogUrl: stack.urls.catalog,
      userUrl: stack.urls.user,
      catalogProxy,
      rabbitProxy,
      catalogDatabaseUrl: stack.databases.catalog.url,
      orderQueue: queue,
      memcached,
      database,
      consumed,
      waitForConsumed,
      auth: stack.auth,
      as,
      close: async () => {
        await infra.close();
        contract.assertNoViolations();
      },
    };
  });
}
