import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';

/** Something to close on shutdown: the bus, the outbox relay, the cache cluster, Prisma. */
export interface Closable {
  name: string;
  close(): Promise<unknown> | unknown;
}

export interface StartServiceOptions {
  app: Express;
  port: number;
  host?: string;
  logger: Logger;
  /** Closed in this order after the HTTP server stops, e.g. flusher, relay, bus, cache, prisma. */
  closers?: Closable[];
  /** In-flight requests get this long before their connections are dropped. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** Stop on SIGTERM/SIGINT and exit. Default true; tests pass false. */
  handleSignals?: boolean;
}

export interface RunningService {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish, then closes every closer. Idempotent. */
  stop(): Promise<void>;
}

export async function startService({
  app,
  port,
  host = '0.0.0.0',
  logger,
  closers = [],
  shutdownTimeoutMs = 10_000,
  handleSignals = true,
}: StartServiceOptions): Promise<RunningService> {
  const server = app.listen(port, host);
  await once(server, 'listening');
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`;
  logger.info({ port: actualPort }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      for (const closer of closers) {
        try {
          await closer.close();
        } catch (err) {
          logger.warn({ err, closer: closer.name }, 'error while closing');
        }
      }
      logger.info('stopped');
    })();
    return stopping;
  };

  if (handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      // A second signal, or a shutdown that hangs, must still end the process.
      const force = setTimeout(() => process.exit(1), shutdownTimeoutMs + 5_000);
      force.unref();
      void stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  return { server, port: actualPort, url, stop };
}
