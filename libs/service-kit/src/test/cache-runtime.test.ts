import * as diagnosticsChannel from 'node:diagnostics_channel';
import { CACHE_METRIC_NAMES } from '@memshop/cache/advanced';
import { parseConfig, serviceEnvShape } from '../config';
import { createCacheRuntime } from '../cache-runtime';
import { createLogger } from '../logger';
import { CACHE_CHANNELS } from '../memshop-cache-names';
import { createServiceMetrics } from '../metrics';
import { z } from 'zod';

// Only what the wiring decides: nothing here connects (the bus and relay are never started).
describe('createCacheRuntime', () => {
  const config = parseConfig(z.object(serviceEnvShape), {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
    MEMCACHED_SERVERS: '127.0.0.1:1,127.0.0.1:2',
    RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1',
  });
  let disconnects = 0;
  const queries: string[] = [];
  const prisma = {
    $queryRawUnsafe: async (query: string) => {
      queries.push(query);
      return [];
    },
    $executeRawUnsafe: async () => 0,
    $disconnect: async () => {
      disconnects += 1;
    },
  };
  const { registry } = createServiceMetrics('catalog', { defaultMetrics: false });
  const runtime = createCacheRuntime({
    service: 'catalog',
    config,
    logger: createLogger({ service: 'catalog', level: 'silent' }),
    registry,
    prisma,
    bindings: ['catalog.#'],
  });

  afterAll(async () => {
    for (const closer of runtime.closers) await closer.close();
  });

  it('closes the relay before the bus it publishes on, and Prisma last', () => {
    expect(runtime.closers.map((c) => c.name)).toEqual([
      'outbox-relay',
      'invalidation-bus',
      'cache',
      'memcached',
      'prisma',
    ]);
  });

  it('gives the bus the default queue of the service', () => {
    expect(runtime.bus.queue).toBe('memshop.catalog.invalidation.quorum');
    expect(runtime.bus.topology).toMatchObject({
      parkingQueue: 'memshop.catalog.invalidation.quorum.parked',
      deadLetterExchange: 'memshop.invalidation.dead-letter',
      deliveryLimit: 20,
    });
  });

  it("keeps memshop's names: metrics, diagnostics channels, exchange and outbox table", async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(CACHE_METRIC_NAMES.map((n) => `memshop_${n}`)));
    expect(names.filter((n) => n.startsWith('cache_') || n.startsWith('outbox_'))).toEqual([]);
    expect(runtime.bus.exchange).toBe('memshop.invalidation');
    await runtime.relay.backlog().catch(() => undefined);
    expect(queries.some((q) => q.includes('"memshop_outbox"'))).toBe(true);
    const seen: unknown[] = [];
    const onInvalidate = (message: unknown) => seen.push(message);
    diagnosticsChannel.subscribe(CACHE_CHANNELS.invalidate, onInvalidate);
    try {
      await runtime.cache.invalidate('memshop:test:key').catch(() => undefined);
    } finally {
      diagnosticsChannel.unsubscribe(CACHE_CHANNELS.invalidate, onInvalidate);
    }
    expect(CACHE_CHANNELS.invalidate).toBe('memshop:cache:invalidate');
    expect(seen).toHaveLength(1);
  });

  it('checks database, memcached and rabbitmq, in that order', async () => {
    expect(Object.keys(runtime.healthChecks)).toEqual(['database', 'memcached', 'rabbitmq']);
    await expect(runtime.healthChecks.database()).resolves.toEqual({ status: 'up' });
    // Down with the reason in the body: not connected (or the consumer cancelled) since when.
    await expect(runtime.healthChecks.rabbitmq()).resolves.toEqual({
      status: 'down',
      detail: {
        queue: 'memshop.catalog.invalidation.quorum',
        feed: 'disconnected',
        since: expect.any(String),
      },
    });
    expect((await runtime.healthChecks.memcached()).detail).toEqual([
      { server: '127.0.0.1:1', state: 'up' },
      { server: '127.0.0.1:2', state: 'up' },
    ]);
  });

  it('stops the auditor before anything it reads from closes', () => {
    const auditor = runtime.createAuditor([]);
    expect(runtime.auditEnabled).toBe(true);
    expect(auditor).toBeDefined();
    expect(runtime.closers.map((c) => c.name)).toEqual([
      'cache-auditor',
      'outbox-relay',
      'invalidation-bus',
      'cache',
      'memcached',
      'prisma',
    ]);
  });

  it('disconnects Prisma through its closer', async () => {
    await runtime.closers.at(-1)!.close();
    expect(disconnects).toBe(1);
  });
});
