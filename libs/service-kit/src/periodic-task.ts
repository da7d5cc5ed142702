/**
 * Runs a background pass every `intervalMs` (sweepers, settlers): a pass never overlaps the
 * next, an explicit `run()` joins the pass in progress instead of starting a second one, and
 * `close()` stops the timer and waits for that pass. The timer does not keep the process alive.
 */
export class PeriodicTask<T> {
  readonly #pass: () => Promise<T>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<T> | undefined;

  /** `pass` handles its own errors: a rejection is left to the caller of `run()`. */
  constructor(pass: () => Promise<T>, intervalMs: number) {
    this.#pass = pass;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.run().catch(() => undefined), this.#intervalMs);
    this.#timer.unref();
  }

  /** One pass now, or the one already running. */
  run(): Promise<T> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
