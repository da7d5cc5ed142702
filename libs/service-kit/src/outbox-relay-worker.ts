import diagnostics from 'node:diagnostics_channel';
import { parentPort, workerData } from 'node:worker_threads';
import {
  InvalidationBus,
  OutboxListener,
  OutboxRelay,
  pgSqlExecutor,
  type CacheMetrics,
} from '@memshop/cache';
import { cacheChannelNames, noopCacheMetrics } from '@memshop/cache/advanced';
import pg from 'pg';
import { createLogger } from './logger';
import { TRACER_NAME } from './memshop-cache-names';
import {
  OUTBOX_RELAY_ROLE,
  PUBLISHING_STAMP_INTERVAL_MS,
  type OutboxRelayWorkerData,
  type OutboxRelayWorkerMessage,
} from './outbox-relay-protocol';

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
async function main(port: NonNullable<typeof parentPort>, settings: OutboxRelayWorkerData): Promise<void> {
  const logger = createLogger({ service: settings.service, level: settings.logLevel }).child({
    thread: 'outbox-relay',
  });
  const metrics = forwardedMetrics(port);
  // diagnostics_channel is per thread: what the bus and relay publish here is republished there.
  const channels = cacheChannelNames(settings.diagnosticsChannelPrefix);
  for (const channel of [channels.publish, channels.outbox])
    diagnostics.subscribe(channel, (message) =>
      port.postMessage({ type: 'diagnostics', channel, message } satisfies OutboxRelayWorkerMessage),
    );
  if (settings.tracing) {
    // Loaded only here: the thread of a service that does not trace never loads the SDK.
    const { forwardThreadSpans } = await import('./thread-tracing');
    forwardThreadSpans((spans) =>
      port.postMessage({ type: 'spans', spans } satisfies OutboxRelayWorkerMessage),
    );
  }
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
    Atomics.store(settings.publishingConfirmedAt, 0, publishing ? process.hrtime.bigint() : 0n);
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

const data = workerData as Partial<OutboxRelayWorkerData> | null;
if (parentPort && data?.role === OUTBOX_RELAY_ROLE) void main(parentPort, data as OutboxRelayWorkerData);
