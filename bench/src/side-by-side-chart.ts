import type { AuditorCostResult } from './cases/auditor-cost';
import type { MemoryOptionsResult } from './cases/p7-memory-options';
import { renderChart, type Bar, type Panel } from './chart';

/**
 * The chart of the cases that run extra catalog processes side by side: P7's memory options
 * (peak RSS, and the hit req/s each costs) and A1, the auditor's cost next to its noise floor.
 */
export function renderSideBySideChart(
  r: { p7Options?: MemoryOptionsResult; auditorCost?: AuditorCostResult },
  subtitle: string,
): string {
  const options = r.p7Options?.options ?? [];
  const ratio = (label: string, s: { median: number; min: number; max: number }, accent = false): Bar => ({
    label,
    value: s.median,
    min: s.min,
    max: s.max,
    accent,
  });
  const panels: Panel[] = [
    {
      title: 'P7 peak RSS per memory option',
      unit: 'MB, VmHWM after the P1/P2 load',
      bars: options.flatMap((o) =>
        o.peakRssMb === null ? [] : [{ label: o.name, value: o.peakRssMb, accent: o.name === 'shipped' }],
      ),
      target: { value: 150, label: '150 MB' },
    },
    {
      title: 'P7 cache-hit req/s ÷ shipped flags, same round',
      unit: 'ratio',
      digits: 2,
      bars: options.map((o) => ratio(o.name, o.hitOverShipped, o.name === 'shipped')),
      target: { value: 1, label: '1' },
    },
    {
      title: 'A1 auditor every 200 ms ÷ off, and off ÷ off (noise)',
      unit: 'ratio of hit req/s',
      digits: 3,
      bars: r.auditorCost
        ? [
            ratio('auditor ÷ off', r.auditorCost.onOverOff, true),
            ratio('off ÷ off', r.auditorCost.offOverOff),
          ]
        : [],
      target: { value: 1, label: '1' },
    },
  ].filter((p) => p.bars.length > 0);
  return renderChart('memshop benchmark: processes side by side', subtitle, panels);
}
