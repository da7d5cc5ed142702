/**
 * Seeded PRNG (mulberry32): the load generator must replay the same request mix in every run
 * and on every machine, so runs are comparable.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf(s) over ranks 1..n by inversion of the exact CDF (binary search over a precomputed
 * table: 800 KB for n = 100k, O(log n) per draw). Rank 1 is the most popular item.
 */
export class ZipfSampler {
  readonly #cdf: Float64Array;
  readonly #random: () => number;

  constructor(
    readonly n: number,
    readonly s: number,
    random: () => number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`ZipfSampler: n must be a positive integer, got ${n}`);
    if (!(s >= 0)) throw new Error(`ZipfSampler: s must be >= 0, got ${s}`);
    this.#random = random;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let rank = 1; rank <= n; rank++) {
      sum += 1 / rank ** s;
      this.#cdf[rank - 1] = sum;
    }
    for (let i = 0; i < n; i++) this.#cdf[i]! /= sum;
  }

  /** Probability of one rank (1-based). */
  probability(rank: number): number {
    const upper = this.#cdf[rank - 1]!;
    return rank === 1 ? upper : upper - this.#cdf[rank - 2]!;
  }

  /** Share of all draws that fall on the `k` most popular ranks. */
  massOfTop(k: number): number {
    if (k <= 0) return 0;
    return this.#cdf[Math.min(k, this.n) - 1]!;
  }

  next(): number {
    const u = this.#random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  }
}

/**
 * A fixed pseudo-random permutation of 0..n-1, so popular ranks are spread over the id space
 * (and over the hash ring) instead of being the lowest ids.
 */
export function shuffledIndexes(n: number, random: () => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
