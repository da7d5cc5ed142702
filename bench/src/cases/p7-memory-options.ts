import type { Stack } from '../../../scripts/stack';
import { startCatalogVariants, type CatalogVariantSpec } from '../catalog-variant';
import { untilHit } from '../http-probe';
import { runInterleavedRounds, type InterleavedRoundsOptions } from '../interleaved-rounds';
import type { LoadGenerator } from '../load-client';
import { memoryOf } from '../process-memory';
import { SERVICE_NODE_ARGS } from '../settings';
import { pairedRatios, summarize, type Summary } from '../stats';

/**
 * The memory options P7 weighs: each a catalog process of its own, the shipped flags being the
 * reference. Semi-space: V8's young generation is three semi-spaces, each up to 16 MiB on a
 * 64-bit machine with 2 GiB or more (Node's --max-semi-space-size docs), nearly all garbage under
 * a request load, so a smaller one trades RSS for more frequent scavenges. Old space: a
 * heap limit caps growth but turns a leak or a burst into an out-of-memory crash. Prisma's pool
 * (10 connections, not an env setting) and OpenTelemetry (off unless OTEL_TRACES_EXPORTER is set)
 * are not variants here.
 */
export const MEMORY_OPTIONS: readonly CatalogVariantSpec[] = [
  { name: 'no-flags', nodeArgs: [] },
  { name: 'shipped', nodeArgs: SERVICE_NODE_ARGS },
  { name: 'semi-space-2mb', nodeArgs: [...SERVICE_NODE_ARGS, '--max-semi-space-size=2'] },
  { name: 'semi-space-1mb', nodeArgs: [...SERVICE_NODE_ARGS, '--max-semi-space-size=1'] },
  { name: 'old-space-96mb', nodeArgs: [...SERVICE_NODE_ARGS, '--max-old-space-size=96'] },
  {
    name: 'semi-1mb+old-96mb',
    nodeArgs: [...SERVICE_NODE_ARGS, '--max-semi-space-size=1', '--max-old-space-size=96'],
  },
];

export interface MemoryOptionResult {
  name: string;
  nodeArgs: readonly string[];
  /** VmHWM after every round of this option (its peak since start), MB; null once it exited. */
  peakRssMb: number | null;
  /** Cache-hit req/s ÷ the shipped process's in the same round. */
  hitOverShipped: Summary;
  /** Bypass (Prisma -> Postgres) req/s ÷ the shipped process's in the same round. */
  bypassOverShipped: Summary;
  hitRequestsPerSecond: Summary;
  hitP99Ms: Summary;
  errors: number;
}

export interface MemoryOptionsResult {
  options: MemoryOptionResult[];
}

export interface MemoryOptionsOptions extends InterleavedRoundsOptions {
  productId: number;
  logDir: string;
}

const MB = 1024 * 1024;

/**
 * P7's table: every option's peak RSS under the P1/P2 load (the cached GET and the same GET
 * with the cache bypassed, the two loads the P7 row's process takes) and what it costs in
 * req/s against the shipped flags, the processes side by side and loaded in rotating order.
 */
export async function runMemoryOptions(
  load: LoadGenerator,
  stack: Stack,
  opts: MemoryOptionsOptions,
): Promise<MemoryOptionsResult> {
  const variants = await startCatalogVariants(stack, MEMORY_OPTIONS, opts.logDir);
  try {
    const targets: Record<string, { url: string; headers?: Record<string, string> }> = {};
    for (const [i, spec] of MEMORY_OPTIONS.entries()) {
      const url = `${variants.processes[i]!.url}/products/${opts.productId}`;
      await untilHit(url);
      targets[`${spec.name}:hit`] = { url };
      targets[`${spec.name}:bypass`] = { url, headers: { 'x-cache-bypass': '1' } };
    }
    const results = await runInterleavedRounds(load, targets, opts);
    const rps = (key: string) => (results[key] ?? []).map((r) => r.requestsPerSecond);
    return {
      options: MEMORY_OPTIONS.map((spec, i) => {
        const memory = memoryOf(variants.processes[i]!.pid ?? -1);
        const hit = results[`${spec.name}:hit`] ?? [];
        const bypass = results[`${spec.name}:bypass`] ?? [];
        return {
          name: spec.name,
          nodeArgs: spec.nodeArgs ?? SERVICE_NODE_ARGS,
          peakRssMb: memory ? memory.peakRssBytes / MB : null,
          hitOverShipped: summarize(pairedRatios(rps(`${spec.name}:hit`), rps('shipped:hit'))),
          bypassOverShipped: summarize(pairedRatios(rps(`${spec.name}:bypass`), rps('shipped:bypass'))),
          hitRequestsPerSecond: summarize(rps(`${spec.name}:hit`)),
          hitP99Ms: summarize(hit.map((r) => r.latencyMs.p99)),
          errors: [...hit, ...bypass].reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        };
      }),
    };
  } finally {
    await variants.stop();
  }
}
