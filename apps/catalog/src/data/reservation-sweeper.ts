import type { Logger } from '@memshop/service-kit';

export interface ReservationSweeperOptions {
  /** CatalogService.releaseExpiredReservations. */
  releaseExpired: () => Promise<number>;
  intervalMs: number;
  logger: Logger;
}

/**
 * Gives back the stock of reservations nobody confirmed in time (an order-service that crashed,
 * a client that gave up). Every catalog instance runs one; the repository's SKIP LOCKED makes
 * them share the work instead of releasing a reservation twice.
 */
export class ReservationSweeper {
  readonly #opts: ReservationSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: ReservationSweeperOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  /** One pass; a pass still running is joined rather than overlapped. */
  sweep(): Promise<void> {
    this.#running ??= (async () => {
      try {
        const released = await this.#opts.releaseExpired();
        if (released > 0) this.#opts.logger.info({ released }, 'released expired stock reservations');
      } catch (err) {
        // The next pass retries; a database outage is reported by the health checks.
        this.#opts.logger.warn({ err }, 'stock reservation sweep failed');
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
