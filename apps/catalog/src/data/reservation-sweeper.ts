import { PeriodicTask, type Logger } from '@memshop/service-kit';

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
  readonly #task: PeriodicTask<void>;

  constructor(opts: ReservationSweeperOptions) {
    this.#task = new PeriodicTask(async () => {
      try {
        const released = await opts.releaseExpired();
        if (released > 0) opts.logger.info({ released }, 'released expired stock reservations');
      } catch (err) {
        // The next pass retries; a database outage is reported by the health checks.
        opts.logger.warn({ err }, 'stock reservation sweep failed');
      }
    }, opts.intervalMs);
  }

  start(): void {
    this.#task.start();
  }

  /** One pass; a pass still running is joined rather than overlapped. */
  sweep(): Promise<void> {
    return this.#task.run();
  }

  close(): Promise<void> {
    return this.#task.close();
  }
}
