import type { Registry } from 'prom-client';

/** Sum of a metric's samples whose labels include `labels` (0 when the metric has none yet). */
export async function counterValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  let total = 0;
  for (const sample of values) {
    const sampleLabels = sample.labels as Record<string, string | number | undefined>;
    if (Object.entries(labels).every(([key, value]) => String(sampleLabels[key]) === value)) {
      total += sample.value;
    }
  }
  return total;
}

/** The same sum, scraped from a running service's GET /metrics on its admin port (Prometheus text format). */
export async function scrapeCounter(
  adminUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const sampleLabels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    if (!Object.entries(labels).every(([key, value]) => sampleLabels[key] === value)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}
