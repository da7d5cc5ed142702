import { PeriodicTask, type Logger } from '@memshop/service-kit';
import type { OrderStore } from '../domain/order';
import { settleOrder, type SettleOrderDeps } from '../domain/settle-order';

export interface OrderSettlerOptions extends SettleOrderDeps {
  orders: OrderStore;
  intervalMs: number;
  /** Orders claimed per pass. Default 50. */
  batchSize?: number;
  logger: Logger;
}

/**
 * Finishes every order a request left unfinished (catalog too slow, a reply lost, the process
 * killed): each pass claims the orders whose turn has come (SKIP LOCKED, so several instances
 * share them) and takes each a step with settleOrder. A step that fails waits for its next
 * turn, later each time (the claim's backoff), until catalog answers.
 */
export class OrderSettler {
  readonly #opts: OrderSettlerOptions;
  readonly #task: PeriodicTask<number>;

  constructor(opts: OrderSettlerOptions) {
    this.#opts = opts;
    this.#task = new PeriodicTask(() => this.#pass(), opts.intervalMs);
  }

  start(): void {
    this.#task.start();
  }

  /** One pass; returns how many orders it took a step. A pass still running is joined. */
  settle(): Promise<number> {
    return this.#task.run();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  async #pass(): Promise<number> {
    let settled = 0;
    try {
      const orders = await this.#opts.orders.claimUnsettled(this.#opts.batchSize ?? 50);
      for (const order of orders) {
        try {
          const after = await settleOrder(this.#opts, order);
          settled += 1;
          this.#opts.logger.info(
            { orderId: order.id, from: order.status, to: after.status },
            'order settled a step',
          );
        } catch (err) {
          this.#opts.logger.warn({ err, orderId: order.id }, 'order settlement step failed, retried later');
        }
      }
    } catch (err) {
      this.#opts.logger.warn({ err }, 'claiming orders to settle failed, retried next pass');
    }
    return settled;
  }
}
