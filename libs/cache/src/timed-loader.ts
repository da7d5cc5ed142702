import type { CacheMetrics } from './metrics.js';
import type { CacheTracing } from './tracing.js';

/** Runs a caller's loader with its duration counted, traced (`cache.load`) and published. */
export class TimedLoader {
  readonly #metrics: CacheMetrics;
  readonly #tracing: CacheTracing;

  constructor(metrics: CacheMetrics, tracing: CacheTracing) {
    this.#metrics = metrics;
    this.#tracing = tracing;
  }

  /** The loader's value, with undefined turned into null (both mean "not found"). */
  run<R>(entity: string, key: string | undefined, loader: () => Promise<R>): Promise<R> {
    if (!this.#tracing.active) return this.#load(entity, key, loader);
    return this.#tracing.span(
      'cache.load',
      { 'cache.namespace': entity, ...(key ? { 'cache.key': key } : {}) },
      () => this.#load(entity, key, loader),
    );
  }

  async #load<R>(entity: string, key: string | undefined, loader: () => Promise<R>): Promise<R> {
    const started = performance.now();
    let ok = false;
    try {
      const value = await loader();
      ok = true;
      return (value === undefined ? null : value) as R;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.#metrics.recordLoaderCall(entity, seconds);
      this.#tracing.publish('load', { key, namespace: entity, durationMs: seconds * 1000, ok });
    }
  }
}
