import type { ContextResult } from './cases/context';
import type { ThroughputResult } from './cases/p1-p2-p7-throughput';
import type { P3Result } from './cases/p3-get-or-load';
import type { InvalidationLagResult } from './cases/p6-invalidation-lag';
import type { ZipfMixResult } from './cases/p8-zipf-mix';
import { renderChart, type Bar, type Panel } from './chart';
import type { BenchSettings } from './settings';
import type { Summary } from './stats';

const bar = (label: string, s: Summary | null | undefined, accent = false): Bar[] =>
  s && Number.isFinite(s.median) ? [{ label, value: s.median, min: s.min, max: s.max, accent }] : [];

/** The README's chart: the side-by-side comparisons of the run, one unit per panel. */
export function renderBenchChart(
  r: {
    throughput?: ThroughputResult;
    p3?: P3Result;
    p6?: InvalidationLagResult;
    p8?: ZipfMixResult;
    context?: ContextResult;
  },
  s: BenchSettings,
  machine: Record<string, unknown>,
  startedAt: Date,
): string {
  const t = r.throughput;
  const panels: Panel[] = [
    {
      title: 'Throughput on this machine',
      unit: 'per second, median of runs, whiskers min-max',
      bars: [
        ...bar('memcslap get (2 threads)', r.context?.memcslapGet),
        ...bar('memjs pipelined get', r.context?.memjsPipelined),
        ...bar('GET in-memory route', t?.requestsPerSecond.memory),
        ...bar('GET /products/:id cache hit', t?.requestsPerSecond.hit, true),
        ...bar('GET /products/:id no cache', t?.requestsPerSecond.bypass),
      ],
    },
    {
      title: 'P1 hit ÷ in-memory route, P8 Zipf hit ratio',
      unit: 'ratio, target >= 0.9',
      digits: 2,
      bars: [...bar('P1 hit ÷ memory', t?.hitOverMemory, true), ...bar('P8 hit ratio', r.p8?.hitRatio, true)],
      target: { value: 0.9, label: '0.9' },
    },
    {
      title: 'P3 hit latency, sequential, p50',
      unit: 'µs',
      digits: 0,
      bars: [
        ...bar('bare memjs get', r.p3?.memjsP50Us),
        ...bar('Cache.getOrLoad hit', r.p3?.getOrLoadP50Us, true),
      ],
    },
    {
      title: 'P6 PATCH commit → order-service copy purged',
      unit: 'ms, target p99 < 20',
      digits: 1,
      bars: [...bar('p50', r.p6?.p50Ms, true), ...bar('p99', r.p6?.p99Ms, true)],
      target: { value: 20, label: '20 ms' },
    },
  ].filter((p) => p.bars.length > 0);
  const subtitle =
    `${startedAt.toISOString().slice(0, 10)} · ${s.mode} run · ${String(machine.cpus)} CPUs (${String(machine.cpuModel ?? '?')}) · ` +
    `Node ${String(machine.node)} · ${s.rounds} runs x ${s.durationSeconds} s, ${s.connections} connections`;
  return renderChart('memshop benchmark (npm run bench)', subtitle, panels);
}
