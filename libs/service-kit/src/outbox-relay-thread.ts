import { noopCacheMetrics } from '@memshop/cache/advanced';
import type { CacheMetrics } from '@memshop/cache';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger';
import { recordThreadSpans, threadSpansWanted } from './thread-tracing';
import {
  PUBLISHING_STAMP_INTERVAL_MS,
  type OutboxRelayWorkerMessage,
  type OutboxRelayWorkerSettings,
} from './outbox-relay-worker';

const WORKER_FILE = 'outbox-relay-worker';

/** What the service gives the thread; the thread manager adds the shared stamp and the tracing flag. */
type ThreadSettings = Omit<OutboxRelayWorkerSettings, 'publishingSince' | 'tracing'>;
const RESTART_BASE_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A thread that published this long is healthy again: the next failure restarts it at once. */
const STABLE_AFTER_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5000;
/** Missed stamps after which the main thread stops trusting the thread (a hung or dead loop). */
const STAMP_TRUST_MS = 4 * PUBLISHING_STAMP_INTERVAL_MS;

/**
 * The thread's script: from the TypeScript sources (the native stack and the tests) through tsx's
 * CommonJS hook, else the bundle's sibling file, which the Dockerfile and the bench build as a
 * second entry point. A bundle without it fails the thread, loudly, and the writer publishes.
 */
function startWorker(workerData: ThreadSettings, shared: BigInt64Array): Worker {
  const data: OutboxRelayWorkerSettings = {
    ...workerData,
    publishingSince: shared,
    tracing: threadSpansWanted(),
  };
  if (__filename.endsWith('.ts')) {
    const source = path.join(__dirname, `${WORKER_FILE}.ts`);
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, {
      eval: true,
      workerData: data,
    });
  }
  const bundled = path.join(__dirname, `${WORKER_FILE}.js`);
  if (!fs.existsSync(bundled))
    throw new Error(`${bundled} is missing: bundle it beside the service's main.js`);
  return new Worker(bundled, { workerData: data });
}

/**
 * Runs the outbox relay thread (outbox-relay-worker.ts): events announced at commit are
 * published from there, off the service's event loop, where under load they would wait their
 * turn behind requests. `publishing` says whether that path works right now, read from memory
 * the thread stamps (not from a message, which would wait for this loop's turn); while it does
 * not (thread starting or restarting, its Postgres or broker connection down), the writer
 * publishes the events itself. A thread that dies is restarted with backoff.
 */
export class OutboxRelayThread {
  readonly #settings: ThreadSettings;
  readonly #logger: Logger;
  readonly #metrics: CacheMetrics;
  readonly #publishingSince = new BigInt64Array(new SharedArrayBuffer(8));
  #worker: Worker | null = null;
  #closed = true;
  #restartTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  #startedAt = 0;

  constructor(settings: ThreadSettings, logger: Logger, metrics: CacheMetrics = noopCacheMetrics) {
    this.#settings = settings;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /** True while the thread publishes announced events at their commit. */
  get publishing(): boolean {
    const since = Number(Atomics.load(this.#publishingSince, 0));
    return since !== 0 && Date.now() - since < STAMP_TRUST_MS;
  }

  start(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#spawn();
  }

  async close(): Promise<void> {
    this.#closed = true;
    Atomics.store(this.#publishingSince, 0, 0n);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const worker = this.#worker;
    this.#worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const closed = new Promise<void>((resolve) =>
      worker.on('message', (message: OutboxRelayWorkerMessage) => {
        if (message.type === 'closed') resolve();
      }),
    );
    worker.postMessage({ type: 'close' });
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, CLOSE_TIMEOUT_MS, 'timeout').unref(),
    );
    if ((await Promise.race([closed, exited, timeout])) === 'timeout')
      this.#logger.warn('outbox relay thread did not close in time, terminating it');
    await worker.terminate();
    await exited;
  }

  #spawn(): void {
    this.#startedAt = Date.now();
    let worker: Worker;
    try {
      worker = startWorker(this.#settings, this.#publishingSince);
    } catch (err) {
      this.#logger.error({ err: { message: (err as Error).message } }, 'outbox relay thread could not start');
      this.#restartLater();
      return;
    }
    this.#worker = worker;
    worker.unref();
    worker.on('message', (message: OutboxRelayWorkerMessage) => {
      if (message.type === 'spans') recordThreadSpans(message.spans);
      if (message.type !== 'metric' || !(message.name in noopCacheMetrics)) return;
      (this.#metrics[message.name] as (...args: unknown[]) => void)(...message.args);
    });
    worker.on('error', (err) =>
      this.#logger.error({ err: { message: err.message, stack: err.stack } }, 'outbox relay thread failed'),
    );
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      Atomics.store(this.#publishingSince, 0, 0n);
      if (this.#closed) return;
      this.#logger.warn({ code }, 'outbox relay thread exited, restarting it');
      this.#restartLater();
    });
  }

  #restartLater(): void {
    if (this.#closed) return;
    if (Date.now() - this.#startedAt > STABLE_AFTER_MS) this.#failures = 0;
    this.#failures += 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (this.#failures - 1));
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (!this.#closed) this.#spawn();
    }, delay);
    this.#restartTimer.unref();
  }
}
