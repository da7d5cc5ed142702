/**
 * Sums of `memshop_cache_requests_total` by result, read from a service's /metrics on its admin port (Prometheus
 * text format). Enough of the format for counters: `name{labels} value`.
 */
export async function cacheRequestCounts(adminUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('memshop_cache_requests_total{')) continue;
    const result = /result="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (result && Number.isFinite(value)) counts.set(result, (counts.get(result) ?? 0) + value);
  }
  return counts;
}

/** after - before, per result. */
export function countsDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [result, value] of after) delta.set(result, value - (before.get(result) ?? 0));
  return delta;
}
