import { startMemcachedCluster, type MemcachedCluster } from '../../libs/testing/src';
import type { Stack } from '../../scripts/stack';
import type { ServiceProcess } from '../../scripts/lib/service-process';
import { startCatalogVariants } from './catalog-variant';
import type { LoadGenerator } from './load-client';
import type { LoadResult } from './load-protocol';

/**
 * memcached nodes of a case's own (started empty, shared with nothing else in the bench) and
 * catalog processes beside the stack that use them: `groups` name sets of processes that differ
 * only in env. Every process starts on the first `ringSize` nodes; the rest are spares a case
 * can add at runtime (POST /bench/cache/nodes).
 */
export async function startOwnCacheCatalogs(
  stack: Stack,
  opts: {
    name: string;
    nodes: number;
    ringSize: number;
    groups: Record<string, { count: number; env?: Record<string, string> }>;
    logDir: string;
  },
): Promise<{
  memcached: MemcachedCluster;
  groups: Record<string, ServiceProcess[]>;
  stop: () => Promise<void>;
}> {
  const memcached = await startMemcachedCluster(opts.nodes, { memoryMb: 64 });
  const ring = memcached.servers.slice(0, opts.ringSize).join(',');
  const specs = Object.entries(opts.groups).flatMap(([group, { count, env }]) =>
    Array.from({ length: count }, (_, i) => ({
      name: `${opts.name}-${group}-${i}`,
      env: { ...env, MEMCACHED_SERVERS: ring },
    })),
  );
  let variants;
  try {
    variants = await startCatalogVariants(stack, specs, opts.logDir);
  } catch (err) {
    await memcached.stop();
    throw err;
  }
  const groups: Record<string, ServiceProcess[]> = {};
  let next = 0;
  for (const [group, { count }] of Object.entries(opts.groups)) {
    groups[group] = variants.processes.slice(next, next + count);
    next += count;
  }
  return {
    memcached,
    groups,
    stop: async () => {
      await variants.stop();
      await memcached.stop();
    },
  };
}

/**
 * Zipf(1.0) reads of `rankedIds` (most popular first) on every process at once, one seeded
 * stream per process, no writes: the traffic P9 and P10 watch the hit ratio of.
 */
export function zipfReadsOn(
  load: LoadGenerator,
  processes: Array<Pick<ServiceProcess, 'url'>>,
  opts: { rankedIds: string[]; seed: number; connectionsPerProcess: number; durationSeconds: number },
): Promise<LoadResult[]> {
  return Promise.all(
    processes.map((p, i) =>
      load.run({
        kind: 'zipf',
        baseUrl: p.url,
        ids: opts.rankedIds,
        s: 1.0,
        seed: opts.seed + i,
        writeRatio: 0,
        readPath: '/products/{id}',
        writePath: '/products/{id}',
        writeMethod: 'PATCH',
        writeBody: '{}',
        connections: opts.connectionsPerProcess,
        durationSeconds: opts.durationSeconds,
      }),
    ),
  );
}
