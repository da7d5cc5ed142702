import type { Express } from 'express';
import { startService, type Closable, type RunningService, type StartServiceOptions } from './lifecycle';
import type { Logger } from './logger';

export type ListenOptions = Omit<StartServiceOptions, 'app' | 'logger' | 'closers'> & {
  /** Closed after the service's own closers (tracing, which must see their last spans). */
  closers?: Closable[];
};

/** A built service: nothing runs until start(), nothing listens until listen(). */
export interface ServiceHandle {
  /** A test may wrap it (a contract recorder) before listen(). */
  app: Express;
  logger: Logger;
  /** Connects the bus and starts the relay and the service's periodic tasks. */
  start(): Promise<void>;
  /** Serves `app`; stop() then closes the server before anything else. */
  listen(options: ListenOptions): Promise<RunningService>;
  /**
   * Stops taking requests (if listening), then closes the periodic tasks, the auditor, the relay
   * (drained before the bus it publishes on), the bus, the cache and memcached, and Prisma last
   * because the relay and the event handlers use it. Idempotent.
   */
  stop(): Promise<void>;
}

export interface ServiceHandleParts {
  app: Express;
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
    logger: parts.logger,
    start: () => parts.start(),
    async listen({ closers = [], ...options }) {
      running = await startService({
        ...options,
        app: handle.app,
        logger: parts.logger,
        closers: [...parts.closers, ...closers],
      });
      return running;
    },
    stop() {
      stopping ??= running ? running.stop() : closeAll(parts.closers);
      return stopping;
    },
  };
  return handle;
}
