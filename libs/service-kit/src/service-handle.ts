import type { Express } from 'express';
import { startService, type Closable, type RunningService, type StartServiceOptions } from './lifecycle';
import type { Logger } from './logger';

export type ListenOptions = Omit<StartServiceOptions, 'app' | 'logger' | 'closers'> & {
  /** Closed after the service's own closers (tracing, which must see their last spans). */
  closers?: Closable[];
  /** Serves `adminApp` (/metrics, detailed readiness) on this port, on the same host; 0 = a free port. Omitted: not served. */
  adminPort?: number;
};

/** The listening service; `admin` is where `adminApp` listens when `adminPort` was given. */
export type ListeningService = RunningService & { admin?: { port: number; url: string } };

/** A built service: nothing runs until start(), nothing listens until listen(). */
export interface ServiceHandle {
  /** A test may wrap it (a contract recorder) before listen(). */
  app: Express;
  /** /metrics and the detailed /health/ready (admin-app.ts), served on the admin port by listen(). */
  adminApp: Express;
  logger: Logger;
  /** Connects the bus and starts the relay and the service's periodic tasks. */
  start(): Promise<void>;
  /**
   * Serves `app` (and `adminApp` when `adminPort` is given); stop() then closes the public server
   * first, the admin server next (scrapes see the drain), then the rest.
   */
  listen(options: ListenOptions): Promise<ListeningService>;
  /**
   * Stops taking requests (if listening), then closes the periodic tasks, the auditor, the relay
   * (drained before the bus it publishes on), the bus, the cache and memcached, and Prisma last
   * because the relay and the event handlers use it. Idempotent.
   */
  stop(): Promise<void>;
}

export interface ServiceHandleParts {
  app: Express;
  adminApp: Express;
  logger: Logger;
  start(): Promise<void>;
  /** In shutdown order. */
  closers: Closable[];
}

export function serviceHandle(parts: ServiceHandleParts): ServiceHandle {
  let running: RunningService | undefined;
  let stopping: Promise<void> | undefined;
  const closeAll = async (closers: Closable[]) => {
    for (const closer of closers) {
      try {
        await closer.close();
      } catch (err) {
        parts.logger.warn({ err, closer: closer.name }, 'error while closing');
      }
    }
  };
  const handle: ServiceHandle = {
    app: parts.app,
    adminApp: parts.adminApp,
    logger: parts.logger,
    start: () => parts.start(),
    async listen({ closers = [], adminPort, ...options }) {
      const admin =
        adminPort === undefined
          ? undefined
          : await startService({
              app: handle.adminApp,
              port: adminPort,
              host: options.host,
              logger: parts.logger.child({ server: 'admin' }),
              handleSignals: false,
              shutdownTimeoutMs: options.shutdownTimeoutMs,
            });
      const adminCloser: Closable[] = admin ? [{ name: 'admin server', close: () => admin.stop() }] : [];
      try {
        running = await startService({
          ...options,
          app: handle.app,
          logger: parts.logger,
          closers: [...adminCloser, ...parts.closers, ...closers],
        });
      } catch (err) {
        await admin?.stop();
        throw err;
      }
      return admin ? { ...running, admin: { port: admin.port, url: admin.url } } : running;
    },
    stop() {
      stopping ??= running ? running.stop() : closeAll(parts.closers);
      return stopping;
    },
  };
  return handle;
}
