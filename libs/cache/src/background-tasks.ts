import { errorFields, type RateLimitedLogger } from './logger.js';

/** Work started for a request but not awaited by it (refreshes, lease releases): drained on shutdown. */
export class BackgroundTasks {
  readonly #tasks = new Set<Promise<void>>();
  readonly #log: RateLimitedLogger;

  constructor(log: RateLimitedLogger) {
    this.#log = log;
  }

  get size(): number {
    return this.#tasks.size;
  }

  track(promise: Promise<void>): void {
    const tracked = promise.catch((err) =>
      this.#log.warn('background', errorFields(err), 'background cache task failed'),
    );
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
  }

  /** Resolves when the tasks running now are done (new ones may have started meanwhile). */
  async settled(): Promise<void> {
    await Promise.all([...this.#tasks]);
  }
}
