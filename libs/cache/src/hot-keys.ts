import { LRUCache } from 'lru-cache';

export interface HotKeysOptions {
  /** Reads within one second that make a key hot. 0 makes every key hot. */
  minReadsPerSecond: number;
  /** Counters kept at once; the least recently read are dropped first. */
  maxTrackedKeys: number;
  /** Epoch ms. */
  clock: () => number;
}

interface ReadWindow {
  startedAt: number;
  reads: number;
}

const WINDOW_MS = 1000;

/**
 * Counts reads per key in fixed one-second windows and says when a key reaches the rate. The
 * counters live in a bounded LRU, so a scan over millions of cold keys costs a fixed amount of
 * memory and only pushes out other cold counters: a hot key is read again before it falls off.
 */
export class HotKeys {
  readonly #minReads: number;
  readonly #clock: () => number;
  readonly #windows: LRUCache<string, ReadWindow>;

  constructor(opts: HotKeysOptions) {
    this.#minReads = opts.minReadsPerSecond;
    this.#clock = opts.clock;
    this.#windows = new LRUCache({ max: opts.maxTrackedKeys });
  }

  /** Counts one read of `key`; true when it is at or above the rate in the current window. */
  recordRead(key: string): boolean {
    if (this.#minReads <= 0) return true;
    const now = this.#clock();
    const window = this.#windows.get(key);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      this.#windows.set(key, { startedAt: now, reads: 1 });
      return this.#minReads <= 1;
    }
    window.reads += 1;
    return window.reads >= this.#minReads;
  }

  get trackedKeys(): number {
    return this.#windows.size;
  }
}
