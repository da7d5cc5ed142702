import os from 'node:os';
import path from 'node:path';
import { loadedMachineMemcachedEnv, relaxedRateLimitEnv, uniqueName } from '@memshop/testing';
import { startStack, type Stack } from '../../../scripts/stack';
import { requestJson } from './support/http-client';
import { scrapeCounter } from './support/prom-counters';

const INSTANCES = 3;
/**
 * The lease makes one process load; the others wait for its value while its lease is alive
 * (up to the lease TTL + 1 s), however slow a CPU-saturated 2-core box running 3 services,
 * Postgres and 500 requests makes the holder. So one load in all, not one per process.
 */
const LOADER_CALLS_BOUND = 1;
const CONCURRENT_REQUESTS = 500;
/** Cold keys tried one after the other, each with its own burst. */
const COLD_IDS = [3, 4, 5];

let stack: Stack;
let urls: string[];
/** The same instances' admin ports, where /metrics is. */
let adminUrls: string[];

// Three real catalog processes (each its own event loop, cache client and single-flight table),
// as in production: only the memcached lease can make them agree on one loader.
beforeAll(async () => {
  stack = await startStack({
    services: ['catalog'],
    instances: { catalog: INSTANCES },
    ports: { catalog: 0 },
    databases: 'fresh',
    rabbit: 'isolated',
    memcached: { count: 3 },
    logLevel: 'warn',
    // What is under test is the lease, not the op timeout: on a CPU-starved CI box memcached can
    // answer later than the production 150 ms, and a timed-out get would count as a bypass.
    env: { ...relaxedRateLimitEnv, ...loadedMachineMemcachedEnv },
    logDir: path.join(os.tmpdir(), uniqueName('resilience-stampede-logs')),
  });
  urls = stack.processes.catalog.map((p) => p.url);
  adminUrls = stack.processes.catalog.map((p) => p.adminUrl);
  // Open every instance's memcached and Postgres connections (a cold pool is not a cold key).
  await Promise.all(urls.map((url) => requestJson(url, '/products/1')));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const loaderCalls = async () => {
  const counts = await Promise.all(
    adminUrls.map((url) => scrapeCounter(url, 'memshop_cache_loader_calls_total', { namespace: 'product' })),
  );
  return counts.reduce((total, n) => total + n, 0);
};

describe('stampede: one cold key, 500 concurrent requests over 3 catalog processes', () => {
  it.each(COLD_IDS)('loads product %i from Postgres once', async (id) => {
    const before = await loaderCalls();

    const responses = await Promise.all(
      Array.from({ length: CONCURRENT_REQUESTS }, (_, n) =>
        requestJson(urls[n % INSTANCES] as string, `/products/${id}`),
      ),
    );

    const calls = (await loaderCalls()) - before;
    const failed = responses.filter((r) => r.status !== 200).length;
    const statuses: Record<string, number> = {};
    for (const r of responses) statuses[r.xCache ?? 'none'] = (statuses[r.xCache ?? 'none'] ?? 0) + 1;
    console.log(
      `stampede product ${id}: ${CONCURRENT_REQUESTS} requests over ${INSTANCES} processes, ` +
        `loader calls ${calls} (memshop_cache_loader_calls_total), failed ${failed}, X-Cache ${JSON.stringify(statuses)}`,
    );
    expect(failed).toBe(0);
    expect(statuses['bypass'] ?? 0).toBe(0);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(LOADER_CALLS_BOUND);
    const bodies = new Set(responses.map((r) => JSON.stringify(r.body)));
    expect(bodies.size).toBe(1);
  });
});
