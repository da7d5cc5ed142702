/**
 * In-process request coalescing: concurrent callers for one key share one promise, so a burst
 * of misses in one process costs one cache round trip and at most one loader call.
 * (Go's golang.org/x/sync/singleflight; bentocache's "factory" lock does the same.)
 */
export class SingleFlight<V> {
  readonly #inflight = new Map<string, Promise<V>>();

  /**
   * Joins the running flight for `key`, or starts `fn` as the new one. `fn` starts at once (it
   * must not call run() for the same key before its first await). The flight is removed before
   * any caller sees its result, so a caller that awaited it and calls again starts a new one.
   */
  run(key: string, fn: () => Promise<V>): Promise<V> {
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    let flight: Promise<V>;
    try {
      flight = fn();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inflight.set(key, flight);
    const settle = this.#settler(key, flight);
    flight.then(settle, settle);
    return flight;
  }

  #settler(key: string, flight: Promise<V>): () => void {
    // A forget() followed by a new flight must not be removed by the old one finishing.
    return () => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
    };
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
