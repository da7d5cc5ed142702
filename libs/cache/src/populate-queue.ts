import { errorFields, type LoggerLike, RateLimitedLogger } from './logger';
import { noopCacheMetrics, type CacheMetrics, type PopulateResult } from './metrics';

export interface PopulateQueueOptions {
  /** Writes waiting to start; beyond this new writes are dropped and counted. Default 1000. */
  maxQueue?: number;
  /** Writes running at once. Default 8. */
  concurrency?: number;
}

export type PopulateTask = () => Promise<PopulateResult>;

/**
 * Background cache writes after a miss. The caller already has its value, so a write must never
 * delay it, and a slow or dead cache must not grow memory without bound: the queue is bounded
 * and drops (counted as `dropped`) when full. A dropped write costs one extra miss later.
 */
export class PopulateQueue {
  readonly #maxQueue: number;
  readonly #concurrency: number;
  readonly #metrics: CacheMetrics;
  readonly #log: RateLimitedLogger;
  readonly #waiting: PopulateTask[] = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(
    opts: PopulateQueueOptions & { metrics?: CacheMetrics; logger: LoggerLike | RateLimitedLogger },
  ) {
    this.#maxQueue = opts.maxQueue ?? 1000;
    this.#concurrency = Math.max(1, opts.concurrency ?? 8);
    this.#metrics = opts.metrics ?? noopCacheMetrics;
    this.#log = opts.logger instanceof RateLimitedLogger ? opts.logger : new RateLimitedLogger(opts.logger);
  }

  /** Queues a write; false when the queue was full and the write was dropped. */
  push(task: PopulateTask): boolean {
    if (this.#waiting.length >= this.#maxQueue) {
      this.#metrics.recordPopulate('dropped');
      this.#log.warn(
        'populate-dropped',
        { maxQueue: this.#maxQueue },
        'cache populate queue full, write dropped',
      );
      return false;
    }
    this.#waiting.push(task);
    this.#pump();
    this.#reportDepth();
    return true;
  }

  /** Waiting plus running writes. */
  get depth(): number {
    return this.#waiting.length + this.#running;
  }

  /** Resolves once nothing is waiting or running (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const task = this.#waiting.shift() as PopulateTask;
      this.#running += 1;
      void this.#execute(task);
    }
  }

  async #execute(task: PopulateTask): Promise<void> {
    try {
      this.#metrics.recordPopulate(await task());
    } catch (err) {
      this.#metrics.recordPopulate('error');
      this.#log.warn('populate-error', errorFields(err), 'cache populate failed');
    } finally {
      this.#running -= 1;
      this.#pump();
      this.#reportDepth();
      if (this.depth === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  #reportDepth(): void {
    this.#metrics.setPopulateQueueDepth(this.depth);
  }
}
