import { movedShares } from './cases/p10-resize';
import {
  countersOf,
  dipAndRecovery,
  peakLoadsPerSecond,
  timelineOf,
  timeToReach,
  type CounterSample,
  type TimelinePoint,
} from './hit-timeline';
import { parsePrometheus } from './prometheus';
import { renderTimelineChart } from './timeline-chart';

/** Windows of 250 ms with the given hit ratios (null: no reads). */
function windows(ratios: Array<number | null>): TimelinePoint[] {
  return ratios.map((hitRatio, i) => ({
    tMs: (i + 1) * 250,
    hitRatio,
    loadsPerSecond: 0,
    readsPerSecond: 0,
  }));
}

describe('hit timeline', () => {
  it('reads hits, every product read and loader calls from /metrics, summed over labels', () => {
    const samples = parsePrometheus(
      [
        'memshop_cache_requests_total{namespace="product",result="hit"} 90',
        'memshop_cache_requests_total{namespace="product",result="miss"} 8',
        'memshop_cache_requests_total{namespace="product",result="stale"} 2',
        'memshop_cache_requests_total{namespace="category",result="hit"} 1000',
        'memshop_cache_loader_calls_total{namespace="product",outcome="ok"} 7',
        'memshop_cache_loader_calls_total{namespace="product",outcome="error"} 1',
        'memshop_cache_loader_calls_total{namespace="category",outcome="ok"} 50',
      ].join('\n'),
    );
    expect(countersOf(samples)).toEqual({ hits: 90, requests: 100, loads: 8 });
  });

  it('turns cumulative samples into per-window ratios and rates', () => {
    const samples: CounterSample[] = [
      { tMs: 0, hits: 0, requests: 0, loads: 0 },
      { tMs: 250, hits: 10, requests: 100, loads: 90 },
      { tMs: 500, hits: 10, requests: 100, loads: 90 },
      { tMs: 1000, hits: 110, requests: 200, loads: 100 },
    ];
    expect(timelineOf(samples)).toEqual([
      { tMs: 250, hitRatio: 0.1, loadsPerSecond: 360, readsPerSecond: 400 },
      { tMs: 500, hitRatio: null, loadsPerSecond: 0, readsPerSecond: 0 },
      { tMs: 1000, hitRatio: 1, loadsPerSecond: 20, readsPerSecond: 200 },
    ]);
    expect(peakLoadsPerSecond(timelineOf(samples))).toBe(360);
  });

  it('time to 0.9 is the first window at or above it that the next window confirms', () => {
    expect(timeToReach(windows([0.2, 0.5, 0.91, 0.7, 0.9, 0.95]), 0.9)).toBe(1250);
    expect(timeToReach(windows([0.2, 0.95, null, 0.96]), 0.9)).toBe(500);
    expect(timeToReach(windows([0.2, 0.5, 0.93]), 0.9)).toBe(750);
    expect(timeToReach(windows([0.2, 0.5, 0.89]), 0.9)).toBeNull();
  });

  it('finds the dip after a change and the time until the ratio is back', () => {
    const points = windows([0.95, 0.95, 0.93, 0.97, 0.7, 0.6, 0.8, 0.92, 0.5, 0.96]);
    // change at 1000 ms (after window 4); baseline = windows ending in (0, 1000]; the 0.5 at
    // 2250 is past untilMs and does not count.
    const d = dipAndRecovery(points, { changeMs: 1000, untilMs: 2000, baselineMs: 1000, target: 0.9 });
    expect(d.before).toBeCloseTo(0.95);
    expect(d.dip).toBe(0.6);
    expect(d.recoveredAt).toBe(0.9);
    expect(d.recoveryMs).toBe(1000);
  });

  it('recovers to the level before the change when that was under the target', () => {
    const points = windows([0.8, 0.8, 0.4, 0.78, 0.81]);
    const d = dipAndRecovery(points, { changeMs: 500, untilMs: 1250, baselineMs: 500, target: 0.9 });
    expect(d.recoveredAt).toBeCloseTo(0.8);
    expect(d.dip).toBe(0.4);
    expect(d.recoveryMs).toBe(750);
    const never = dipAndRecovery(windows([0.95, 0.95, 0.3, 0.5]), {
      changeMs: 500,
      untilMs: 1000,
      baselineMs: 500,
      target: 0.9,
    });
    expect(never.recoveryMs).toBeNull();
    const noDip = dipAndRecovery(windows([0.95, 0.95, 0.97, 0.99]), {
      changeMs: 500,
      untilMs: 1000,
      baselineMs: 500,
      target: 0.9,
    });
    expect(noDip).toMatchObject({ dip: 0.97, recoveryMs: 0 });
  });

  it('counts moved keys from the rings: none for the same ring, about 1/4 for a fourth node', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => String(i + 1));
    const three = ['127.0.0.1:11211', '127.0.0.1:11212', '127.0.0.1:11213'];
    expect(movedShares(ids, three, three)).toEqual({ keysMoved: 0, trafficMoved: 0 });
    const { keysMoved, trafficMoved } = movedShares(ids, three, [...three, '127.0.0.1:11214']);
    expect(keysMoved).toBeGreaterThan(0.15);
    expect(keysMoved).toBeLessThan(0.35);
    expect(trafficMoved).toBeGreaterThan(0);
    expect(trafficMoved).toBeLessThan(1);
  });

  it('draws every series and marker as SVG', () => {
    const svg = renderTimelineChart('T <1>', 'sub', [
      {
        title: 'hit ratio',
        yMax: 1,
        level: { y: 0.9, label: '0.9' },
        markers: [{ x: 1, label: 'added' }],
        series: [
          {
            label: 'on',
            color: '#00f',
            points: [
              [0.25, 0.1],
              [0.5, 0.95],
            ],
          },
          { label: 'off', color: '#f00', points: [] },
        ],
      },
    ]);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('T &lt;1&gt;');
    expect(svg).toContain('>added</text>');
    expect(svg.match(/stroke="#00f" stroke-width="1.8"/g)).toHaveLength(1);
  });
});
