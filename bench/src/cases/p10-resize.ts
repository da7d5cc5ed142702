import { catalogProductKeys } from '../catalog-product-keys';
import { KetamaRing } from '../../../libs/cache/src/hash-ring';
import type { Stack } from '../../../scripts/stack';
import type { ServiceProcess } from '../../../scripts/lib/service-process';
import { expectStatus, scrapeMetrics, sleep } from '../http-probe';
import { sumOf } from '../prometheus';
import {
  dipAndRecovery,
  startSampling,
  timelineOf,
  type DipAndRecovery,
  type TimelinePoint,
} from '../hit-timeline';
import { bearer } from '../../../libs/testing/src';
import type { LoadGenerator } from '../load-client';
import { flushAll } from '../memcached-flush';
import { startOwnCacheCatalogs, zipfReadsOn } from '../own-cache-catalogs';
import { summarize, type Summary } from '../stats';
import { mulberry32, shuffledIndexes } from '../zipf';

export interface ResizeChange {
  /** share of the products' keys whose node changed (from the ring, not measured) */
  keysMoved: number;
  /** the same, weighted by each key's Zipf(1.0) share of the requests */
  trafficMoved: number;
  dip: Summary;
  /** ms from the change until the hit ratio is back at min(0.9, before); rounds that never got back are left out */
  recoveryMs: Summary | null;
  neverRecovered: number;
  before: Summary;
}

export interface ResizeResult {
  add: ResizeChange;
  remove: ResizeChange;
  /** failed or non-2xx responses over every round (a membership change should cause none) */
  errors: number;
  /** the median round's timeline, and when the changes happened in it */
  timeline: TimelinePoint[];
  addAtMs: number;
  removeAtMs: number;
  products: number;
  processes: number;
  connections: number;
  warmSeconds: number;
  phaseSeconds: number;
  sampleIntervalMs: number;
}

const SEED = 20261129;
const SAMPLE_INTERVAL_MS = 250;
const TARGET = 0.9;
const BASELINE_MS = 2000;

/**
 * P10: every product cached, then under a steady Zipf(1.0) read load on catalog processes with a 3-node ring, a fourth node
 * joins every process's ring (POST /bench/cache/nodes, CacheCluster.setNodes) and, a phase later,
 * leaves it again, as a StatefulSet scaled 3 -> 4 -> 3 does (the highest ordinal goes). Hit
 * ratio over time from the catalogs' /metrics every 250 ms; the share of keys that move is
 * computed from the ketama ring over the catalog's product keys.
 */
export async function runResize(
  load: LoadGenerator,
  stack: Stack,
  opts: {
    ids: number[];
    rounds: number;
    warmSeconds: number;
    phaseSeconds: number;
    connections: number;
    processes: number;
    logDir: string;
    log: (line: string) => void;
  },
): Promise<ResizeResult> {
  const own = await startOwnCacheCatalogs(stack, {
    name: 'resize',
    nodes: 4,
    ringSize: 3,
    groups: { ring: { count: opts.processes } },
    logDir: opts.logDir,
  });
  try {
    const processes = own.groups['ring']!;
    const three = own.memcached.servers.slice(0, 3);
    const four = own.memcached.servers.slice(0, 4);
    const order = shuffledIndexes(opts.ids.length, mulberry32(SEED));
    const rankedIds = Array.from(order, (i) => String(opts.ids[i]!));
    const moved = movedShares(rankedIds, three, four);
    const perProcess = Math.max(1, Math.round(opts.connections / opts.processes));
    // Changing a ring is an operator's act: the route wants an admin token like any admin route.
    const asAdmin = bearer(await stack.auth.adminToken(1, { expiresInSeconds: 3600 }));
    const setRing = (servers: string[]) =>
      Promise.all(
        processes.map((p) =>
          expectStatus(`${p.url}/bench/cache/nodes`, 200, {
            method: 'POST',
            headers: asAdmin,
            body: { servers },
          }),
        ),
      );

    const rounds: Array<{
      timeline: TimelinePoint[];
      add: DipAndRecovery;
      remove: DipAndRecovery;
      addAtMs: number;
      removeAtMs: number;
    }> = [];
    let errors = 0;
    for (let round = 0; round < opts.rounds; round++) {
      await setRing(three);
      await Promise.all(own.memcached.servers.map((server) => flushAll(server)));
      await prewarm(processes[0]!, rankedIds);
      const totalSeconds = opts.warmSeconds + 2 * opts.phaseSeconds;
      const sampling = startSampling(
        processes.map((p) => p.adminUrl),
        SAMPLE_INTERVAL_MS,
      );
      const running = zipfReadsOn(load, processes, {
        rankedIds,
        seed: SEED + round * 100,
        connectionsPerProcess: perProcess,
        durationSeconds: totalSeconds,
      });
      const at = async (seconds: number) => {
        const wait = seconds * 1000 - sampling.elapsedMs();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      };
      await at(opts.warmSeconds);
      const addAtMs = sampling.elapsedMs();
      await setRing(four);
      await at(opts.warmSeconds + opts.phaseSeconds);
      const removeAtMs = sampling.elapsedMs();
      await setRing(three);
      const results = await running;
      // The last sample is taken after the load ended: its window is partial.
      const timeline = timelineOf((await sampling.stop()).slice(0, -1));
      const endMs = timeline.at(-1)?.tMs ?? removeAtMs;
      errors += results.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
      const add = dipAndRecovery(timeline, {
        changeMs: addAtMs,
        untilMs: removeAtMs,
        baselineMs: BASELINE_MS,
        target: TARGET,
      });
      const remove = dipAndRecovery(timeline, {
        changeMs: removeAtMs,
        untilMs: endMs,
        baselineMs: BASELINE_MS,
        target: TARGET,
      });
      rounds.push({ timeline, add, remove, addAtMs, removeAtMs });
      opts.log(
        `  round ${round + 1}/${opts.rounds}: add at ${(addAtMs / 1000).toFixed(1)} s: ${describe(add)}; ` +
          `remove at ${(removeAtMs / 1000).toFixed(1)} s: ${describe(remove)}`,
      );
    }
    const change = (pick: (r: (typeof rounds)[number]) => DipAndRecovery): ResizeChange => {
      const all = rounds.map(pick);
      const recovered = all.map((d) => d.recoveryMs).filter((ms): ms is number => ms !== null);
      return {
        ...moved,
        dip: summarize(all.map((d) => d.dip)),
        recoveryMs: recovered.length > 0 ? summarize(recovered) : null,
        neverRecovered: all.length - recovered.length,
        before: summarize(all.map((d) => d.before)),
      };
    };
    const byDip = [...rounds].sort((a, b) => a.add.dip - b.add.dip);
    const median = byDip[Math.floor((byDip.length - 1) / 2)]!;
    return {
      add: change((r) => r.add),
      remove: change((r) => r.remove),
      errors,
      timeline: median.timeline,
      addAtMs: median.addAtMs,
      removeAtMs: median.removeAtMs,
      products: opts.ids.length,
      processes: opts.processes,
      connections: perProcess * opts.processes,
      warmSeconds: opts.warmSeconds,
      phaseSeconds: opts.phaseSeconds,
      sampleIntervalMs: SAMPLE_INTERVAL_MS,
    };
  } finally {
    await own.stop();
  }
}

function describe(d: DipAndRecovery): string {
  const recovery = d.recoveryMs === null ? 'never' : `${d.recoveryMs.toFixed(0)} ms`;
  return `before ${d.before.toFixed(3)}, dip ${d.dip.toFixed(3)}, back to ${d.recoveredAt.toFixed(3)} in ${recovery}`;
}

/**
 * Every product cached before the load starts (GET /products?ids= in batches of 50, then the
 * background populate queue drained), so the ratio before a change is the steady state and the
 * dip is the change's, not the end of a cold start.
 */
async function prewarm(catalog: ServiceProcess, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    await expectStatus(`${catalog.url}/products?ids=${ids.slice(i, i + 50).join(',')}`, 200);
  }
  for (let i = 0; i < 100; i++) {
    const depth = sumOf(await scrapeMetrics(catalog.adminUrl), 'memshop_cache_populate_queue_depth');
    if (depth === 0) return;
    await sleep(50);
  }
}

/**
 * Keys (and Zipf(1.0) request share, rank r weighing 1/r) whose node differs between the two
 * rings, for catalog's product keys (`catalog:product:v1:<id>` through the lib's keySpace, as the
 * catalog builds them with CACHE_SCHEMA_VERSION=1).
 */
export function movedShares(
  rankedIds: readonly string[],
  from: readonly string[],
  to: readonly string[],
): { keysMoved: number; trafficMoved: number } {
  const products = catalogProductKeys();
  const a = new KetamaRing(from);
  const b = new KetamaRing(to);
  let keys = 0;
  let weight = 0;
  let total = 0;
  rankedIds.forEach((id, i) => {
    const key = products.key(id);
    const w = 1 / (i + 1);
    total += w;
    if (a.nodeFor(key) !== b.nodeFor(key)) {
      keys += 1;
      weight += w;
    }
  });
  return { keysMoved: keys / rankedIds.length, trafficMoved: weight / total };
}
