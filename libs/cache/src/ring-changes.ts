import type { KetamaRing } from './hash-ring.js';

interface RingChange {
  /** epoch ms of the change */
  readonly at: number;
  readonly before: KetamaRing;
  readonly after: KetamaRing;
}

/**
 * The ring changes recent enough that an entry stored before them can still be served, so a key's
 * reader can tell whether its current owner may hold a copy that missed writes and invalidations.
 * Such copies exist whenever a key moves back to a node that owned it before: the ring grew and
 * shrank again, or a node that left comes back with its old entries. Every write and delete of the
 * key meanwhile went to the other node, and no write brings the old copy up for a version check.
 *
 * A change is remembered for `windowMs`, the longest life of an entry in memcached (fresh + grace):
 * an entry stored before a change that was forgotten has expired by then.
 */
export class RingChanges {
  readonly #windowMs: number;
  readonly #clock: () => number;
  /** Oldest first; a short list (membership changes are rare), pruned by age. */
  readonly #changes: RingChange[] = [];

  constructor(opts: { windowMs: number; clock: () => number }) {
    this.#windowMs = opts.windowMs;
    this.#clock = opts.clock;
  }

  record(before: KetamaRing, after: KetamaRing): void {
    const at = this.#clock();
    this.#prune(at);
    this.#changes.push({ at, before, after });
  }

  /**
   * The latest remembered change that gave `key` another owner: entries of `key` stored before it
   * may have missed writes. undefined when none did (the common case costs a length check).
   * A key that moved at one change and not at a later one still gets the earlier change: the
   * copy it came back to is just as old.
   */
  ownerChangedAt(key: string): number | undefined {
    if (this.#changes.length === 0) return undefined;
    this.#prune(this.#clock());
    for (let i = this.#changes.length - 1; i >= 0; i -= 1) {
      const change = this.#changes[i] as RingChange;
      if (change.before.nodeFor(key) !== change.after.nodeFor(key)) return change.at;
    }
    return undefined;
  }

  #prune(now: number): void {
    while (this.#changes.length > 0 && (this.#changes[0] as RingChange).at + this.#windowMs <= now) {
      this.#changes.shift();
    }
  }
}
