import path from 'node:path';
import type { Stack } from '../../scripts/stack';
import { bundleService } from '../../scripts/lib/service-bundle';
import { findFreePort } from '../../libs/testing/src/free-port';
import { ServiceProcess, waitUntilReady } from '../../scripts/lib/service-process';
import { relaxedRateLimitEnv } from '../../libs/testing/src';
import { SERVICE_NODE_ARGS } from './settings';

/** One extra catalog process beside the bench's stack, differing only in `env` and `nodeArgs`. */
export interface CatalogVariantSpec {
  name: string;
  /** Overrides of the stack's catalog env (e.g. CACHE_AUDIT_SAMPLE_SIZE). */
  env?: Record<string, string>;
  /** node flags; default the shipped ones (SERVICE_NODE_ARGS). */
  nodeArgs?: readonly string[];
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Starts catalog processes on the stack's databases, memcached nodes and invalidation queue
 * (another consumer of the same quorum queue, as a scaled-out instance is), so a case compares
 * settings on otherwise identical processes that run side by side. They are stopped by the
 * returned function; the stack's own stop() removes the shared objects.
 */
export async function startCatalogVariants(
  stack: Stack,
  specs: readonly CatalogVariantSpec[],
  logDir: string,
): Promise<{ processes: ServiceProcess[]; stop: () => Promise<void> }> {
  const bundle = await bundleService('catalog');
  const processes: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    for (const [i, spec] of specs.entries()) {
      processes.push(
        new ServiceProcess({
          service: 'catalog',
          // Numbered after the stack's instances so log files do not collide.
          instance: stack.processes.catalog.length + i,
          port: await findFreePort(),
          adminPort: await findFreePort(),
          env: {
            ...process.env,
            ...stack.auth.envFor('catalog'),
            ...relaxedRateLimitEnv,
            LOG_LEVEL: 'warn',
            BENCH_ROUTES: '1',
            MEMCACHED_SERVERS: stack.memcachedServers.join(','),
            RABBITMQ_URL: stack.rabbit.url,
            INVALIDATION_EXCHANGE: stack.rabbit.exchange,
            INVALIDATION_QUEUE: stack.rabbit.queues.catalog,
            DATABASE_URL: stack.databases.catalog.url,
            CATALOG_URL: stack.urls.catalog,
            USER_URL: stack.urls.user,
            SERVICE_INSTANCE_ID: `catalog-${spec.name}`,
            ...spec.env,
          },
          logFile: path.join(logDir, `catalog-${spec.name}.log`),
          bundle,
          nodeArgs: [...(spec.nodeArgs ?? SERVICE_NODE_ARGS)],
        }),
      );
    }
    await Promise.all(processes.map((p) => waitUntilReady(p, READY_TIMEOUT_MS)));
    return { processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
