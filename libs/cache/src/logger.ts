/**
 * The logging surface the library needs: a pino logger satisfies it, so does `console`-like
 * glue. Injected, never global.
 */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

export const silentLogger: LoggerLike = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export interface RateLimitedLoggerOptions {
  /** At most one line per `key` per window; the rest are counted and reported with the next line. Default 10000. */
  windowMs?: number;
  clock?: (() => number) | undefined;
}

/**
 * Cache failures come in floods (a dead node fails every request that maps to it), and one log
 * line per request would drown the logs and cost more than the request. One line per kind of
 * failure per window, carrying how many were suppressed since the last line.
 */
export class RateLimitedLogger {
  readonly #logger: LoggerLike;
  readonly #windowMs: number;
  readonly #clock: () => number;
  readonly #windows = new Map<string, { openedAt: number; suppressed: number }>();

  constructor(logger: LoggerLike, opts: RateLimitedLoggerOptions = {}) {
    this.#logger = logger;
    this.#windowMs = opts.windowMs ?? 10_000;
    this.#clock = opts.clock ?? Date.now;
  }

  warn(key: string, obj: object, msg: string): void {
    this.#write('warn', key, obj, msg);
  }

  error(key: string, obj: object, msg: string): void {
    this.#write('error', key, obj, msg);
  }

  #write(level: 'warn' | 'error', key: string, obj: object, msg: string): void {
    const now = this.#clock();
    const window = this.#windows.get(key);
    if (window && now - window.openedAt < this.#windowMs) {
      window.suppressed += 1;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    // Bounded: keys are a handful of failure kinds, but never let a caller grow this forever.
    if (this.#windows.size > 1000) this.#windows.clear();
    this.#windows.set(key, { openedAt: now, suppressed: 0 });
    this.#logger[level](suppressed > 0 ? { ...obj, suppressed } : obj, msg);
  }
}

export function errorFields(err: unknown): { err: { name: string; message: string } } {
  if (err instanceof Error) return { err: { name: err.name, message: err.message } };
  return { err: { name: 'NonError', message: String(err) } };
}
