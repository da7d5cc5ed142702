import type { Response } from 'express';

export type CacheHeaderStatus = 'hit' | 'miss' | 'stale' | 'bypass';

/** Sets `X-Cache` (docs/architecture.md: every cached read says how it was served). */
export function setCacheHeader(res: Response, status: CacheHeaderStatus): void {
  res.setHeader('X-Cache', status);
}

/**
 * One header for a response built from several cache reads (a batch, an order with its items):
 * the least fresh wins, so `stale` is never hidden behind a `hit`.
 */
export function combineCacheStatus(statuses: Iterable<CacheHeaderStatus>): CacheHeaderStatus {
  const rank: Record<CacheHeaderStatus, number> = { hit: 0, miss: 1, bypass: 2, stale: 3 };
  let worst: CacheHeaderStatus = 'hit';
  for (const s of statuses) if (rank[s] > rank[worst]) worst = s;
  return worst;
}
