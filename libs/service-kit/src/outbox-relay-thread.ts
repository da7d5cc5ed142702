import { noopCacheMetrics } from '@memshop/cache/advanced';
import type { CacheMetrics } from '@memshop/cache';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger';
import { recordThreadSpans, threadSpansWanted } from './thread-tracing';
import {
  OUTBOX_RELAY_ROLE,
  PUBLISHING_STAMP_INTERVAL_MS,
  type OutboxRelayThreadSettings,
  type OutboxRelayWorkerData,
  type OutboxRelayWorkerMessage,
} from './outbox-relay-protocol';

const WORKER_FILE = 'outbox-relay-worker';
const RESTART_BASE_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A thread that ran this long before it failed is restarted at once, with the backoff reset. */
const STABLE_AFTER_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5000;
/** A stamp older than this means a hung or dead thread loop: the main thread stops trusting it. */
const STAMP_TRUST_NS = BigInt(4 * PUBLISHING_STAMP_INTERVAL_MS) * 1_000_000n;

/**
 * The thread's script: from the TypeScript sources (the native stack and the tests) through tsx's
 * CommonJS hook, else the bundle's sibling file, which the Dockerfile and the bench build as a
 * second entry point. A bundle without it fails the thread, loudly, and the writer publishes.
 */
function startWorker(settings: OutboxRelayThreadSettings, shared: BigInt64Array): Worker {
  const data: OutboxRelayWorkerData = {
    ...settings,
    role: OUTBOX_RELAY_ROLE,
    publishingConfirmedAt: shared,
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
  readonly #settings: OutboxRelayThreadSettings;
  readonly #logger: Logger;
  readonly #metrics: CacheMetrics;
  readonly #publishingConfirmedAt = new BigInt64Array(new SharedArrayBuffer(8));
  #worker: Worker | null = null;
  #closed = true;
  #restartTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  #startedAt = 0;

  constructor(settings: OutboxRelayThreadSettings, logger: Logger, metrics: CacheMetrics = noopCacheMetrics) {
    this.#settings = settings;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /** True while the thread publishes announced events at their commit. */
  get publishing(): boolean {
    const confirmedAt = Atomics.load(this.#publishingConfirmedAt, 0);
    if (confirmedAt === 0n) return false;
    const age = process.hrtime.bigint() - confirmedAt;
    return age >= 0n && age < STAMP_TRUST_NS;
  }

  start(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#spawn();
  }

  async close(): Promise<void> {
    this.#closed = true;
    Atomics.store(this.#publishingConfirmedAt, 0, 0n);
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
      worker = startWorker(this.#settings, this.#publishingConfirmedAt);
    } catch (err) {
      this.#logger.error({ err: { message: (err as Error).message } }, 'outbox relay thread could not start');
      this.#restartLater();
      return;
    }
    this.#worker = worker;
    worker.unref();
    worker.on('message', (message: OutboxRelayWorkerMessage) => {
      if (message.type === 'spans') recordThreadSpans(message.spans);
      if (message.type === 'diagnostics') diagnostics.channel(message.channel).publish(message.message);
      if (message.type !== 'metric' || !Object.hasOwn(noopCacheMetrics, message.name)) return;
      (this.#metrics[message.name] as (...args: unknown[]) => void).apply(this.#metrics, message.args);
    });
    worker.on('error', (err) =>
      this.#logger.error({ err: { message: err.message, stack: err.stack } }, 'outbox relay thread failed'),
    );
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      Atomics.store(this.#publishingConfirmedAt, 0, 0n);
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
