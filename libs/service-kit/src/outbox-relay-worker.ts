import { parentPort, workerData } from 'node:worker_threads';
import {
  InvalidationBus,
  OutboxListener,
  OutboxRelay,
  pgSqlExecutor,
  type CacheMetrics,
} from '@memshop/cache';
import { noopCacheMetrics } from '@memshop/cache/advanced';
import pg from 'pg';
import { createLogger } from './logger';
import { TRACER_NAME } from './memshop-cache-names';
import { forwardThreadSpans, type ThreadSpan } from './thread-tracing';

/** What the thread is started with (OutboxRelayThread). */
export interface OutboxRelayWorkerSettings {
  service: string;
  logLevel: string;
  databaseUrl: string;
  rabbitmqUrl: string;
  namePrefix: string;
  exchange: string;
  table: string;
  channel: string;
  diagnosticsChannelPrefix: string;
  /** The service records traces: the thread's spans are posted to it (thread-tracing.ts). */
  tracing: boolean;
  /**
   * Shared with the service's main thread, which reads it without waiting for its own event
   * loop: [0] is the last moment (epoch ms) the thread was publishing at commit, 0 when it is not.
   */
  publishingSince: BigInt64Array;
}

/** Messages the thread posts: its cache metrics and spans, recorded as the service's own; closed. */
export type OutboxRelayWorkerMessage =
  | { type: 'metric'; name: keyof CacheMetrics; args: unknown[] }
  | { type: 'spans'; spans: ThreadSpan[] }
  | { type: 'closed' };

/** How often the thread renews its "publishing" stamp; the main thread trusts it 4 times as long. */
export const PUBLISHING_STAMP_INTERVAL_MS = 250;

/** Cache metrics recorded by posting them to the main thread, where the registry lives. */
function forwardedMetrics(port: NonNullable<typeof parentPort>): CacheMetrics {
  const metrics = {} as Record<keyof CacheMetrics, (...args: unknown[]) => void>;
  for (const name of Object.keys(noopCacheMetrics) as Array<keyof CacheMetrics>) {
    metrics[name] = (...args) =>
      port.postMessage({ type: 'metric', name, args } satisfies OutboxRelayWorkerMessage);
  }
  return metrics as unknown as CacheMetrics;
}

/**
 * The body of the outbox relay thread: its own Postgres connections and broker connection, and
 * an event loop that no request competes for. It listens for the events the service's writes
 * announce at commit and publishes each at once; the service's own relay keeps polling for
 * whatever this thread missed.
 */
async function main(
  port: NonNullable<typeof parentPort>,
  settings: OutboxRelayWorkerSettings,
): Promise<void> {
  const logger = createLogger({ service: settings.service, level: settings.logLevel }).child({
    thread: 'outbox-relay',
  });
  const metrics = forwardedMetrics(port);
  if (settings.tracing)
    forwardThreadSpans((spans) =>
      port.postMessage({ type: 'spans', spans } satisfies OutboxRelayWorkerMessage),
    );
  // Bounded like the service's Prisma pool: a statement on a connection gone silent fails.
  const connection = {
    connectionString: settings.databaseUrl,
    connectionTimeoutMillis: 2000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  const pool = new pg.Pool({ ...connection, max: 2, query_timeout: 5000 });
  pool.on('error', (err) =>
    logger.warn({ err: { message: err.message } }, 'outbox relay pool connection error'),
  );
  const bus = new InvalidationBus({
    url: settings.rabbitmqUrl,
    service: settings.service,
    namePrefix: settings.namePrefix,
    exchange: settings.exchange,
    tracerName: TRACER_NAME,
    diagnosticsChannelPrefix: settings.diagnosticsChannelPrefix,
    logger,
    metrics,
  });
  const relay = new OutboxRelay({
    db: pgSqlExecutor(pool),
    table: settings.table,
    publisher: bus,
    // The service's own relay polls; this one publishes what is announced.
    poll: false,
    diagnosticsChannelPrefix: settings.diagnosticsChannelPrefix,
    logger,
    metrics,
  });
  const listener = new OutboxListener({
    channel: settings.channel,
    relay,
    connect: async () => {
      const client = new pg.Client(connection);
      client.on('error', () => undefined); // the listener learns of it through 'end'
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      return client;
    },
    onListening: () => stamp(),
    logger,
  });
  let closing = false;
  const stamp = () => {
    const publishing = !closing && listener.listening && bus.connected;
    Atomics.store(settings.publishingSince, 0, publishing ? BigInt(Date.now()) : 0n);
  };
  bus.onConnectionChange(() => stamp());
  const stamping = setInterval(stamp, PUBLISHING_STAMP_INTERVAL_MS);

  port.on('message', (message: { type: string }) => {
    if (message.type !== 'close' || closing) return;
    closing = true;
    stamp();
    clearInterval(stamping);
    void (async () => {
      await listener.close();
      await relay.stop();
      await bus.close();
      await pool.end().catch(() => undefined);
      port.postMessage({ type: 'closed' } satisfies OutboxRelayWorkerMessage);
      port.close();
    })();
  });

  await bus.start();
  if (closing) return;
  relay.start();
  listener.start();
}

if (parentPort) void main(parentPort, workerData as OutboxRelayWorkerSettings);
