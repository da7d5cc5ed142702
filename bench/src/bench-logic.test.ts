import { renderChart } from './chart';
import { bucketQuantile, diffBuckets, histogramBuckets, parsePrometheus, sumBy, sumOf } from './prometheus';
import { formatValue, renderTable, verdict, type Row } from './report';
import { pairedRatios, quantile, summarize } from './stats';
import { mulberry32, shuffledIndexes, ZipfSampler } from './zipf';

describe('stats', () => {
  it('summarizes runs as median with min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, 1, 2] });
    expect(summarize([4, 1, 2, 3]).median).toBe(2.5);
  });

  it('interpolates quantiles between ranks', () => {
    const values = Array.from({ length: 101 }, (_, i) => i);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(() => quantile([], 0.5)).toThrow('empty');
  });

  it('pairs ratios run by run', () => {
    expect(pairedRatios([10, 20], [5, 40])).toEqual([2, 0.5]);
    expect(() => pairedRatios([1], [1, 2])).toThrow('length');
  });
});

describe('report', () => {
  const row = (runs: number[], target: Row['target']): Row => ({
    id: 'P1',
    measure: 'hit / memory',
    summary: summarize(runs),
    unit: '',
    digits: 2,
    target,
  });

  it('judges the median, or every run for exact counts', () => {
    expect(verdict(row([0.8, 0.95, 0.99], { op: '>=', value: 0.9 }))).toBe('yes');
    expect(verdict(row([0.8, 0.85, 0.99], { op: '>=', value: 0.9 }))).toBe('NO');
    expect(verdict(row([1, 1, 2], { op: '==', value: 1, over: 'all' }))).toBe('NO');
    expect(verdict(row([1, 1, 1], { op: '==', value: 1, over: 'all' }))).toBe('yes');
    expect(verdict(row([5], null))).toBe('report');
    expect(verdict({ ...row([1], null), summary: null, note: 'n/a (install x)' })).toBe('n/a');
  });

  it('prints median (min-max) and aligns the table', () => {
    expect(formatValue(row([0.91, 0.93, 0.95], null))).toBe('0.93 (0.91-0.95)');
    expect(formatValue({ ...row([1, 1], null), digits: 0, unit: 'ms' })).toBe('1 ms');
    const table = renderTable([
      row([1], { op: '>=', value: 0.9 }),
      { ...row([2], null), id: 'P10', summary: null, note: 'n/a (install libmemcached-tools)' },
    ]).split('\n');
    expect(table[0]).toMatch(/^case\s+measure\s+value/);
    expect(table).toHaveLength(4);
    expect(table[3]).toContain('n/a (install libmemcached-tools)');
    expect(table[2]!.indexOf('1.00')).toBe(table[0]!.indexOf('value'));
  });
});

describe('zipf', () => {
  it('is deterministic for a seed', () => {
    const a = new ZipfSampler(1000, 1, mulberry32(7));
    const b = new ZipfSampler(1000, 1, mulberry32(7));
    const draws = Array.from({ length: 100 }, () => [a.next(), b.next()]);
    expect(draws.every(([x, y]) => x === y)).toBe(true);
  });

  it('has the Zipf(1) probabilities: p(rank) = (1/rank) / H(n)', () => {
    const n = 100_000;
    const sampler = new ZipfSampler(n, 1, mulberry32(1));
    let harmonic = 0;
    for (let k = 1; k <= n; k++) harmonic += 1 / k;
    expect(sampler.probability(1)).toBeCloseTo(1 / harmonic, 12);
    expect(sampler.probability(10)).toBeCloseTo(1 / (10 * harmonic), 12);
    expect(sampler.massOfTop(n)).toBeCloseTo(1, 12);
  });

  it('draws ranks with the expected frequencies', () => {
    const sampler = new ZipfSampler(100, 1, mulberry32(42));
    const draws = 200_000;
    const counts = new Array<number>(101).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const rank = sampler.next();
      if (rank < 1 || rank > 100) outOfRange++;
      else counts[rank]!++;
    }
    expect(outOfRange).toBe(0);
    for (const rank of [1, 2, 10, 50]) {
      const expected = sampler.probability(rank) * draws;
      // 5 standard deviations of a binomial count: fails only on a real bug, never by chance.
      expect(Math.abs(counts[rank]! - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
  });

  it('shuffles indexes into a permutation', () => {
    const perm = shuffledIndexes(1000, mulberry32(3));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...perm.slice(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('prometheus text', () => {
  const before = parsePrometheus(`
# HELP memshop_cache_loader_calls_total Loader calls
# TYPE memshop_cache_loader_calls_total counter
memshop_cache_loader_calls_total{namespace="product",service="catalog"} 3
memshop_cache_loader_calls_total{namespace="category",service="catalog"} 1
memshop_invalidation_lag_seconds_bucket{le="0.005",entity="product"} 1
memshop_invalidation_lag_seconds_bucket{le="0.01",entity="product"} 2
memshop_invalidation_lag_seconds_bucket{le="+Inf",entity="product"} 2
`);
  const after = parsePrometheus(`
memshop_cache_loader_calls_total{namespace="product",service="catalog"} 4
memshop_invalidation_lag_seconds_bucket{le="0.005",entity="product"} 91
memshop_invalidation_lag_seconds_bucket{le="0.01",entity="product"} 101
memshop_invalidation_lag_seconds_bucket{le="+Inf",entity="product"} 102
`);

  it('sums counters by label', () => {
    expect(sumOf(before, 'memshop_cache_loader_calls_total', { namespace: 'product' })).toBe(3);
    expect(sumOf(before, 'memshop_cache_loader_calls_total')).toBe(4);
    expect(sumBy(before, 'memshop_cache_loader_calls_total', 'namespace').get('category')).toBe(1);
  });

  it('takes bucket quantiles of the difference of two scrapes', () => {
    const delta = diffBuckets(
      histogramBuckets(before, 'memshop_invalidation_lag_seconds'),
      histogramBuckets(after, 'memshop_invalidation_lag_seconds'),
    );
    expect(delta).toEqual([
      { le: 0.005, count: 90 },
      { le: 0.01, count: 99 },
      { le: Infinity, count: 100 },
    ]);
    expect(bucketQuantile(delta, 0.5)).toBe(0.005);
    expect(bucketQuantile(delta, 0.99)).toBe(0.01);
    expect(bucketQuantile(delta, 1)).toBe(Infinity);
    expect(bucketQuantile([], 0.5)).toBeNull();
  });
});

describe('chart', () => {
  it('renders escaped labels, whiskers and the target line', () => {
    const svg = renderChart('memshop <bench>', 'sub', [
      {
        title: 'P1',
        unit: 'req/s',
        bars: [
          { label: 'memory & co', value: 100, min: 90, max: 110 },
          { label: 'hit', value: 95, accent: true },
        ],
        target: { value: 90, label: 'target' },
      },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('memshop &lt;bench&gt;');
    expect(svg).toContain('memory &amp; co');
    expect(svg).toContain('class="whisker"');
    expect(svg).toContain('class="target"');
    expect(svg).not.toContain('NaN');
  });
});
