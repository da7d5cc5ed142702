import type { ColdStartResult } from './cases/p9-cold-start';
import type { ResizeResult } from './cases/p10-resize';
import type { Row } from './report';
import { summarize } from './stats';

/**
 * Sizes of P9 and P10. Products: Zipf(1.0) over n keys reaches a 0.9 hit ratio after about
 * 0.3 x n x H(n) requests (the missing mass is E1(N / (n H(n))) / H(n)): 5,000 for 2,000
 * products, 3,000 for 1,000, a few seconds of this box's miss-path throughput.
 */
export function coldResizeSizes(mode: 'full' | 'quick') {
  return mode === 'quick'
    ? {
        products: 1_000,
        cold: { rounds: 1, durationSeconds: 4, connections: 16, processesPerSide: 2 },
        resize: { rounds: 1, warmSeconds: 2, phaseSeconds: 3, connections: 16, processes: 2 },
      }
    : {
        products: 2_000,
        cold: { rounds: 3, durationSeconds: 12, connections: 32, processesPerSide: 3 },
        resize: { rounds: 3, warmSeconds: 4, phaseSeconds: 6, connections: 32, processes: 2 },
      };
}

export function coldStartRows(r: ColdStartResult | undefined, note: string): Row[] {
  const side = (name: 'on' | 'off') => r?.[name];
  const label = (name: 'on' | 'off') => `leases ${name}`;
  const what = r
    ? `Zipf(1.0), ${r.products} products, empty cache, ${r.processesPerSide} catalogs`
    : 'Zipf(1.0), empty cache';
  return [
    ...(['on', 'off'] as const).flatMap((name): Row[] => [
      {
        id: name === 'on' ? 'P9a' : 'P9b',
        measure: `${what}, ${label(name)}: time to hit ratio 0.9${side(name)?.neverReached ? ` (${side(name)!.neverReached} runs never)` : ''}`,
        summary: side(name)?.timeTo90Ms ?? null,
        unit: 'ms',
        digits: 0,
        target: null,
        note: r ? 'n/a (0.9 never reached)' : note,
      },
      {
        id: name === 'on' ? 'P9a' : 'P9b',
        measure: `${what}, ${label(name)}: peak database reads/s (loader calls, ${r?.sampleIntervalMs ?? 250} ms windows)`,
        summary: side(name)?.peakLoadsPerSecond ?? null,
        unit: '',
        digits: 0,
        target: null,
        note,
      },
      {
        id: name === 'on' ? 'P9a' : 'P9b',
        measure: `${what}, ${label(name)}: database reads in ${r?.durationSeconds ?? '?'} s`,
        summary: side(name)?.loads ?? null,
        unit: '',
        digits: 0,
        target: null,
        note,
      },
    ]),
    {
      id: 'P9',
      measure: 'peak database reads/s, leases off ÷ on (same round)',
      summary: r?.peakOffOverOn ?? null,
      unit: '',
      digits: 2,
      target: null,
      note,
    },
  ];
}

export function resizeRows(r: ResizeResult | undefined, note: string): Row[] {
  const change = (name: 'add' | 'remove', verb: string): Row[] => {
    const c = r?.[name];
    return [
      {
        id: 'P10',
        measure: `${verb}: share of product keys that move (ketama ring; Zipf traffic share ${c ? c.trafficMoved.toFixed(3) : '?'})`,
        summary: c ? summarize([c.keysMoved]) : null,
        unit: '',
        digits: 3,
        target: null,
        note,
      },
      {
        id: 'P10',
        measure: `${verb}: lowest hit ratio (250 ms windows; before: ${c ? c.before.median.toFixed(3) : '?'})`,
        summary: c?.dip ?? null,
        unit: '',
        digits: 3,
        target: null,
        note,
      },
      {
        id: 'P10',
        measure: `${verb}: time until the hit ratio is back at min(0.9, before)${c?.neverRecovered ? ` (${c.neverRecovered} runs never)` : ''}`,
        summary: c?.recoveryMs ?? null,
        unit: 'ms',
        digits: 0,
        target: null,
        note: r ? 'n/a (never recovered in the phase)' : note,
      },
    ];
  };
  return [...change('add', '3 -> 4 memcached nodes'), ...change('remove', '4 -> 3 (the 4th removed)')];
}
