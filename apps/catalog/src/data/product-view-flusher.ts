import { keySpace, type CacheCluster } from '@memshop/cache';
import type { Logger } from '@memshop/service-kit';

export interface ProductViewFlusherOptions {
  cluster: CacheCluster;
  /** Adds the deltas to Postgres (CatalogRepository.addProductViews). */
  store: (deltas: Map<number, number>) => Promise<void>;
  schemaVersion: number;
  /** Length of one counting window, and how often closed windows are flushed. Default 10 s. */
  intervalMs?: number;
  logger?: Logger;
  clock?: () => number;
}

/*
 * Views are summed in the process this long before their `incr` goes out: a hot product under
 * load then costs one memcached operation per 50 ms instead of one per request, and the delay
 * is far inside the one-window grace before a window is read.
 */
const SEND_EVERY_MS = 50;

/**
 * Write-back of product view counts: the views of each GET /products/:id are summed for
 * SEND_EVERY_MS, then one memcached `incr` adds them to a counter for (product, time window); every interval the windows that have closed
 * are added to Postgres in one statement, so Postgres sees one write per product per window
 * instead of one per view.
 *
 * Every instance of the service counts into the same key; an instance flushes only the
 * (product, window) pairs it counted, and claims each with `add` first, so exactly one
 * instance adds a window's total. A window is flushed one window after it closed, so an
 * increment from a slow request or a skewed clock still lands before the read.
 *
 * The trade-off: counts are held only in memcached until the flush. They are lost if the node
 * holding a counter dies or evicts it, if every instance that counted a window stops without
 * flushing, or if Postgres stays down longer than the counters live (five windows). View
 * counts tolerate that; stock or money never would.
 */
export class ProductViewFlusher {
  readonly #cluster: CacheCluster;
  readonly #store: (deltas: Map<number, number>) => Promise<void>;
  readonly #intervalMs: number;
  readonly #logger?: Logger;
  readonly #clock: () => number;
  readonly #counters;
  readonly #claims;
  /** window -> product ids this instance counted in it */
  readonly #touched = new Map<number, Set<number>>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<number> | null = null;
  readonly #inflight = new Set<Promise<unknown>>();
  /** counter key -> views counted here and not sent yet */
  readonly #unsent = new Map<string, number>();
  #sendTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(opts: ProductViewFlusherOptions) {
    this.#cluster = opts.cluster;
    this.#store = opts.store;
    this.#intervalMs = opts.intervalMs ?? 10_000;
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? Date.now;
    this.#counters = keySpace({
      prefix: 'catalog',
      entity: 'product-views',
      schemaVersion: opts.schemaVersion,
    });
    this.#claims = keySpace({
      prefix: 'catalog',
      entity: 'product-views-flushed',
      schemaVersion: opts.schemaVersion,
    });
  }

  get #ttlSeconds(): number {
    return Math.ceil((this.#intervalMs * 5) / 1000) + 60;
  }

  #window(now = this.#clock()): number {
    return Math.floor(now / this.#intervalMs);
  }

  /**
   * Counts one view; never throws and never delays the response (a lost view is acceptable: the
   * views of the last 50 ms die with a killed process). After close() nothing is counted: a
   * request still running past shutdown would queue a send to a closed cluster.
   */
  recordView(productId: number): void {
    if (this.#closed) return;
    const window = this.#window();
    let ids = this.#touched.get(window);
    if (!ids) this.#touched.set(window, (ids = new Set()));
    ids.add(productId);
    const key = this.#counters.key(`${productId}:${window}`);
    this.#unsent.set(key, (this.#unsent.get(key) ?? 0) + 1);
    if (this.#sendTimer === null) {
      this.#sendTimer = setTimeout(() => this.#sendUnsent(), SEND_EVERY_MS);
      this.#sendTimer.unref();
    }
  }

  /** Sends the views counted so far and resolves when every increment is answered (shutdown, tests). */
  async idle(): Promise<void> {
    this.#sendUnsent();
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  #sendUnsent(): void {
    if (this.#sendTimer !== null) clearTimeout(this.#sendTimer);
    this.#sendTimer = null;
    for (const [key, views] of this.#unsent) {
      // A missing counter starts at `initial`, not at initial + delta.
      const increment = this.#cluster
        .incr(key, views, { initial: BigInt(views), ttlSeconds: this.#ttlSeconds })
        .catch(() => undefined)
        .finally(() => this.#inflight.delete(increment));
      this.#inflight.add(increment);
    }
    this.#unsent.clear();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * Flushes every window older than `now - 1 window` (all windows with `all`, at shutdown).
   * Returns the number of views written to Postgres.
   */
  flush(opts: { all?: boolean } = {}): Promise<number> {
    // One flush at a time; a caller during a flush waits for it and then runs its own.
    const previous = this.#flushing ?? Promise.resolve(0);
    const next = previous.then(() => this.#flushOnce(opts.all ?? false));
    this.#flushing = next.finally(() => {
      if (this.#flushing === next) this.#flushing = null;
    });
    return next;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.idle();
    await this.flush({ all: true }).catch(() => undefined);
  }

  async #flushOnce(all: boolean): Promise<number> {
    const current = this.#window();
    const windows = [...this.#touched.keys()].filter((w) => all || w < current - 1);
    let written = 0;
    for (const window of windows) {
      const ids = [...(this.#touched.get(window) ?? [])];
      const claimed: string[] = [];
      const deltas = new Map<number, number>();
      try {
        for (const id of ids) {
          const claimKey = this.#claims.key(`${id}:${window}`);
          const cas = await this.#cluster.add(claimKey, Buffer.from('1'), this.#ttlSeconds);
          if (cas === null) continue; // another instance flushes this one
          claimed.push(claimKey);
          const item = await this.#cluster.get(this.#counters.key(`${id}:${window}`));
          const views = item ? Number.parseInt(item.value.toString('ascii'), 10) : 0;
          if (views > 0) deltas.set(id, views);
        }
        await this.#store(deltas);
        this.#touched.delete(window);
        written += [...deltas.values()].reduce((a, b) => a + b, 0);
      } catch (err) {
        // Give the claims back so the next round retries; the counters outlive a few rounds.
        await Promise.all(claimed.map((key) => this.#cluster.delete(key).catch(() => false)));
        if (window < current - 4) this.#touched.delete(window);
        this.#logger?.warn({ err: { message: (err as Error).message }, window }, 'product view flush failed');
        break;
      }
    }
    return written;
  }
}
