import { renderSideBySideChart } from './side-by-side-chart';
import { summarize } from './stats';

describe('renderSideBySideChart', () => {
  it('draws a bar per memory option with a 150 MB target, and the auditor next to its noise floor', () => {
    const option = (name: string, peakRssMb: number | null) => ({
      name,
      nodeArgs: [],
      peakRssMb,
      hitOverShipped: summarize([0.9, 1.1]),
      bypassOverShipped: summarize([1]),
      hitRequestsPerSecond: summarize([1000]),
      hitP99Ms: summarize([10]),
      errors: 0,
    });
    const svg = renderSideBySideChart(
      {
        p7Options: {
          options: [option('shipped', 191), option('semi-space-1mb', 141), option('crashed', null)],
        },
        auditorCost: {
          onOverOff: summarize([0.98]),
          offOverOff: summarize([1.01]),
          requestsPerSecond: { off: summarize([1]), 'off-again': summarize([1]), audit: summarize([1]) },
          p99Ms: { off: summarize([1]), 'off-again': summarize([1]), audit: summarize([1]) },
          auditIntervalMs: 200,
          auditSampleSize: 20,
          auditedEntries: { off: 0, 'off-again': 0, audit: 40 },
          xCache: { off: {}, 'off-again': {}, audit: {} },
        },
      },
      'test run',
    );
    expect(svg).toContain('>191<');
    expect(svg).toContain('>141<');
    expect(svg).toContain('150 MB');
    // An option whose process exited has no RSS bar, but keeps its req/s ratio bar.
    expect(svg.match(/>crashed</g)).toHaveLength(1);
    expect(svg).toContain('auditor ÷ off');
    expect(svg).toContain('off ÷ off');
  });

  it('leaves out the panels of cases that did not run', () => {
    const svg = renderSideBySideChart({}, 'nothing ran');
    expect(svg).not.toContain('P7 peak RSS');
    expect(svg).not.toContain('A1');
  });
});
