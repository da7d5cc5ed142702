import { errorFields, type LoggerLike, RateLimitedLogger } from './logger.js';
import { noopCacheMetrics, type CacheMetrics, type PopulateResult } from './metrics.js';

export interface PopulateQueueOptions {
  /** Writes waiting to start (a batch counts as its keys); beyond this new writes are dropped and counted. Default 1000. */
  maxQueue?: number;
  /** Writes running at once. Default 8. */
  concurrency?: number;
}

/** One write, or a batch of writes reporting one result per key. */
export type PopulateTask = () => Promise<PopulateResult | PopulateResult[]>;

interface Job {
  task: PopulateTask;
  /** Writes in the job: what the bound counts, and the results counted when it is dropped or throws. */
  weight: number;
}

/**
 * Background cache writes after a miss. The caller already has its value, so a write must never
 * delay it, and a slow or dead cache must not grow memory without bound: the queue is bounded
 * (in writes, so a batch job counts as its number of keys) and drops (counted as `dropped`)
 * when full. A dropped write costs one extra miss later.
 */
export class PopulateQueue {
  readonly #maxQueue: number;
  readonly #concurrency: number;
  readonly #metrics: CacheMetrics;
  readonly #log: RateLimitedLogger;
  readonly #waiting: Job[] = [];
  #waitingWeight = 0;
  #runningWeight = 0;
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

  /**
   * Queues a job of `weight` writes; false when it did not fit and was dropped. An empty queue
   * takes any job, so a batch larger than `maxQueue` is not dropped for its size alone.
   */
  push(task: PopulateTask, weight = 1): boolean {
    const writes = Math.max(1, Math.floor(weight));
    if (this.#waitingWeight + writes > this.#maxQueue && (this.#waitingWeight > 0 || this.#maxQueue <= 0)) {
      for (let i = 0; i < writes; i += 1) this.#metrics.recordPopulate('dropped');
      this.#log.warn(
        'populate-dropped',
        { maxQueue: this.#maxQueue, writes },
        'cache populate queue full, write dropped',
      );
      return false;
    }
    this.#waiting.push({ task, weight: writes });
    this.#waitingWeight += writes;
    this.#pump();
    this.#reportDepth();
    return true;
  }

  /** Waiting plus running writes. */
  get depth(): number {
    return this.#waitingWeight + this.#runningWeight;
  }

  /** Resolves once nothing is waiting or running (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.#waiting.length === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift() as Job;
      this.#waitingWeight -= job.weight;
      this.#runningWeight += job.weight;
      this.#running += 1;
      void this.#execute(job);
    }
  }

  async #execute(job: Job): Promise<void> {
    try {
      const results = await job.task();
      if (Array.isArray(results)) for (const result of results) this.#metrics.recordPopulate(result);
      else this.#metrics.recordPopulate(results);
    } catch (err) {
      for (let i = 0; i < job.weight; i += 1) this.#metrics.recordPopulate('error');
      this.#log.warn('populate-error', errorFields(err), 'cache populate failed');
    } finally {
      this.#running -= 1;
      this.#runningWeight -= job.weight;
      this.#pump();
      this.#reportDepth();
      if (this.#waiting.length === 0 && this.#running === 0) {
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
