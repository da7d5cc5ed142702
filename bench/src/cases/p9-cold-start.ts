import type { Stack } from '../../../scripts/stack';
import type { ServiceProcess } from '../../../scripts/lib/service-process';
import {
  peakLoadsPerSecond,
  startSampling,
  timelineOf,
  timeToReach,
  type TimelinePoint,
} from '../hit-timeline';
import type { LoadGenerator } from '../load-client';
import { flushAll } from '../memcached-flush';
import { startOwnCacheCatalogs, zipfReadsOn } from '../own-cache-catalogs';
import { summarize, type Summary } from '../stats';
import { mulberry32, shuffledIndexes } from '../zipf';

export interface ColdStartSide {
  /** ms from the first request until the hit ratio is >= 0.9 (two windows in a row); null: never */
  timeTo90Ms: Summary | null;
  /** rounds in which 0.9 was never reached */
  neverReached: number;
  /** highest loader calls/s (= database reads/s) of any 250 ms window */
  peakLoadsPerSecond: Summary;
  /** loader calls in the whole run */
  loads: Summary;
  /** hits / reads over the whole run */
  hitRatio: Summary;
  errors: number;
  /** the median round's timeline (for the chart) */
  timeline: TimelinePoint[];
}

export interface ColdStartResult {
  on: ColdStartSide;
  off: ColdStartSide;
  /** peak loads/s with leases off ÷ on, per round */
  peakOffOverOn: Summary;
  products: number;
  processesPerSide: number;
  connections: number;
  durationSeconds: number;
  sampleIntervalMs: number;
}

const SEED = 20261128;
const SAMPLE_INTERVAL_MS = 250;
const TARGET = 0.9;

interface RoundOutcome {
  timeline: TimelinePoint[];
  timeTo90Ms: number | null;
  peak: number;
  loads: number;
  hitRatio: number;
  errors: number;
}

/**
 * P9: a Zipf(1.0) read load over `ids` against an empty memcached cluster, once through catalog
 * processes with leases and once through identical ones without (BENCH_CACHE_LEASES=0), in
 * alternating order per round; the cluster is flushed before every run. Each side is
 * `processesPerSide` processes sharing the load, because leases only act between processes (one
 * process merges its own concurrent misses of a key either way). The database's query rate is
 * the catalogs' product loader calls (memshop_cache_loader_calls_total, one per Prisma read),
 * sampled every 250 ms with the hit counters (memshop_cache_requests_total) from /metrics.
 */
export async function runColdStart(
  load: LoadGenerator,
  stack: Stack,
  opts: {
    ids: number[];
    rounds: number;
    durationSeconds: number;
    connections: number;
    processesPerSide: number;
    logDir: string;
    log: (line: string) => void;
  },
): Promise<ColdStartResult> {
  const own = await startOwnCacheCatalogs(stack, {
    name: 'cold',
    nodes: 3,
    ringSize: 3,
    groups: {
      on: { count: opts.processesPerSide },
      off: { count: opts.processesPerSide, env: { BENCH_CACHE_LEASES: '0' } },
    },
    logDir: opts.logDir,
  });
  try {
    const order = shuffledIndexes(opts.ids.length, mulberry32(SEED));
    const rankedIds = Array.from(order, (i) => String(opts.ids[i]!));
    const perProcess = Math.max(1, Math.round(opts.connections / opts.processesPerSide));

    const runSide = async (processes: ServiceProcess[], round: number): Promise<RoundOutcome> => {
      await Promise.all(own.memcached.servers.map((server) => flushAll(server)));
      const sampling = startSampling(
        processes.map((p) => p.adminUrl),
        SAMPLE_INTERVAL_MS,
      );
      const results = await zipfReadsOn(load, processes, {
        rankedIds,
        seed: SEED + round * 100,
        connectionsPerProcess: perProcess,
        durationSeconds: opts.durationSeconds,
      });
      const samples = await sampling.stop();
      // The last sample is taken after the load ended: its window is partial, so it is only counted in the totals.
      const timeline = timelineOf(samples.slice(0, -1));
      const first = samples[0]!;
      const last = samples.at(-1)!;
      return {
        timeline,
        timeTo90Ms: timeToReach(timeline, TARGET),
        peak: peakLoadsPerSecond(timeline),
        loads: last.loads - first.loads,
        hitRatio: (last.hits - first.hits) / Math.max(1, last.requests - first.requests),
        errors: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
      };
    };

    const on: RoundOutcome[] = [];
    const off: RoundOutcome[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const sides = [
        ['on', own.groups['on']!, on],
        ['off', own.groups['off']!, off],
      ] as const;
      for (const [name, processes, outcomes] of round % 2 === 0 ? sides : [...sides].reverse()) {
        const outcome = await runSide([...processes], round);
        outcomes.push(outcome);
        opts.log(
          `  round ${round + 1}/${opts.rounds} leases ${name}: to 0.9 ${outcome.timeTo90Ms === null ? 'never' : `${outcome.timeTo90Ms.toFixed(0)} ms`},` +
            ` peak ${outcome.peak.toFixed(0)} loads/s, ${outcome.loads} loads, hit ratio ${outcome.hitRatio.toFixed(3)}`,
        );
      }
    }
    return {
      on: sideOf(on),
      off: sideOf(off),
      peakOffOverOn: summarize(off.map((o, i) => o.peak / Math.max(1, on[i]!.peak))),
      products: opts.ids.length,
      processesPerSide: opts.processesPerSide,
      connections: perProcess * opts.processesPerSide,
      durationSeconds: opts.durationSeconds,
      sampleIntervalMs: SAMPLE_INTERVAL_MS,
    };
  } finally {
    await own.stop();
  }
}

function sideOf(outcomes: RoundOutcome[]): ColdStartSide {
  const reached = outcomes.map((o) => o.timeTo90Ms).filter((t): t is number => t !== null);
  const byPeak = [...outcomes].sort((a, b) => a.peak - b.peak);
  return {
    timeTo90Ms: reached.length > 0 ? summarize(reached) : null,
    neverReached: outcomes.length - reached.length,
    peakLoadsPerSecond: summarize(outcomes.map((o) => o.peak)),
    loads: summarize(outcomes.map((o) => o.loads)),
    hitRatio: summarize(outcomes.map((o) => o.hitRatio)),
    errors: outcomes.reduce((sum, o) => sum + o.errors, 0),
    timeline: byPeak[Math.floor((byPeak.length - 1) / 2)]!.timeline,
  };
}
