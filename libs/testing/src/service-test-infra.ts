import diagnosticsChannel from 'node:diagnostics_channel';
import { startMemcachedCluster, type MemcachedCluster } from './memcached';
import { createTestDatabase, type TestDatabase } from './postgres';
import { deleteRabbitObjects, uniqueName, withDeadLetterObjects } from './rabbitmq';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

/** A service from its composition root, as far as starting it for a test goes. */
export interface StartableService {
  start(): Promise<void>;
  stop(): Promise<void>;
  bus: { waitUntilConnected(timeoutMs: number): Promise<boolean> };
}

/**
 * The real servers a service fixture needs. Every step registers its cleanup when it runs, so
 * close() undoes the steps in reverse order of the calls, interleaved with the fixture's own
 * cleanup.add() calls exactly as they were made.
 */
export interface TestInfrastructure {
  cleanup: { add(fn: () => Promise<unknown>): void };
  /**
   * A fresh database, dropped on close, prepared by `migrate` (the caller's migration step, e.g.
   * @memshop/migrate's deployMigrations: passed in so this harness depends on no other project
   * and can be copied alongside libs/cache).
   */
  database(prefix: string, migrate: (databaseUrl: string) => Promise<unknown>): Promise<TestDatabase>;
  /** A TCP proxy in front of `url`'s host and port; `url` is `url` rewritten to go through it. */
  proxy(url: string, defaultPort: number): Promise<{ proxy: TcpProxy; url: string }>;
  memcached(nodes: number): Promise<MemcachedCluster>;
  /**
   * Names unique to this run; deleted on close, with any queue pushed onto `queues` later and
   * the parking queue and dead-letter exchange an InvalidationBus derives from them.
   * Without `exchange` only the queue is removed.
   */
  rabbit(prefixes: { exchange?: string; queue: string }): {
    exchange: string;
    queue: string;
    queues: string[];
  };
  /** Collects the `event` of every `{ event, ok: true }` message published on `channel` until close. */
  consumed<E>(channel: string): {
    consumed: E[];
    waitForConsumed(match: (event: E) => boolean, what: string): Promise<E>;
  };
  /** Starts `service` (stopped on close) and waits until its bus is connected; `name` is for the error. */
  start(service: StartableService, name: string): Promise<void>;
  /** Runs every cleanup, newest first; one failing does not stop the others. */
  close(): Promise<void>;
}

export function createTestInfrastructure(): TestInfrastructure {
  const cleanups: Array<() => Promise<unknown>> = [];
  const add = (fn: () => Promise<unknown>) => {
    cleanups.push(fn);
  };
  return {
    cleanup: { add },
    async database(prefix, migrate) {
      const database = await createTestDatabase(prefix);
      add(() => database.drop());
      await migrate(database.url);
      return database;
    },
    async proxy(target, defaultPort) {
      const url = new URL(target);
      const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || defaultPort) });
      add(() => proxy.close());
      url.hostname = proxy.host;
      url.port = String(proxy.port);
      return { proxy, url: url.toString() };
    },
    async memcached(nodes) {
      const memcached = await startMemcachedCluster(nodes);
      add(() => memcached.stop());
      return memcached;
    },
    rabbit(prefixes) {
      const exchange = prefixes.exchange === undefined ? '' : uniqueName(prefixes.exchange);
      const queue = uniqueName(prefixes.queue);
      const queues = [queue];
      // Read at close: queues pushed later are deleted too, each with its parking queue.
      add(() =>
        deleteRabbitObjects(withDeadLetterObjects({ queues, exchanges: exchange ? [exchange] : [] })),
      );
      return { exchange, queue, queues };
    },
    consumed<E>(channel: string) {
      const consumed: E[] = [];
      const onMessage = (message: unknown) => {
        const { event, ok } = message as { event: E; ok: boolean };
        if (ok) consumed.push(event);
      };
      diagnosticsChannel.subscribe(channel, onMessage);
      add(async () => diagnosticsChannel.unsubscribe(channel, onMessage));
      return {
        consumed,
        waitForConsumed: (match: (event: E) => boolean, what: string) =>
          waitFor(() => consumed.find(match), { timeoutMs: 15_000, intervalMs: 10, message: what }),
      };
    },
    async start(service, name) {
      add(() => service.stop());
      await service.start();
      if (!(await service.bus.waitUntilConnected(10_000)))
        throw new Error(`${name}: RabbitMQ did not connect`);
    },
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
}

/** Runs `build` with fresh infrastructure; if it throws, everything started so far is removed first. */
export async function withTestInfrastructure<T>(
  build: (infra: TestInfrastructure) => Promise<T>,
): Promise<T> {
  const infra = createTestInfrastructure();
  try {
    return await build(infra);
  } catch (err) {
    await infra.close();
    throw err;
  }
}
