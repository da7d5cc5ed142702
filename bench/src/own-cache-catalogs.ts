import { startMemcachedCluster, type MemcachedCluster } from '../../libs/testing/src';
import type { Stack } from '../../scripts/stack';
import type { ServiceProcess } from '../../scripts/lib/service-process';
import { startCatalogVariants } from './catalog-variant';

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
