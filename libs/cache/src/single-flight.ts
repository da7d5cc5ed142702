/**
 * In-process request coalescing: concurrent callers for one key share one promise, so a burst
 * of misses in one process costs one cache round trip and at most one loader call.
 * (Go's golang.org/x/sync/singleflight; bentocache's "factory" lock does the same.)
 */
export class SingleFlight<V> {
  readonly #inflight = new Map<string, Promise<V>>();

  /** Joins the running flight for `key`, or starts `fn` as the new one. */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const flight: Promise<V> = Promise.resolve()
      .then(fn)
      .finally(() => {
        // A forget() followed by a new flight must not be removed by the old one finishing.
        if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
      });
    this.#inflight.set(key, flight);
    return flight;
  }

  /**
   * Callers arriving after this start a new flight. invalidate() calls it so a read that
   * follows a write in the same process never joins a flight that began before the write.
   */
  forget(key: string): void {
    this.#inflight.delete(key);
  }

  get size(): number {
    return this.#inflight.size;
  }
}
