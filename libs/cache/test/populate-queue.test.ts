import { silentLogger } from '../src/logger.js';
import type { CacheMetrics, PopulateResult } from '../src/metrics.js';
import { noopCacheMetrics } from '../src/metrics.js';
import { PopulateQueue } from '../src/populate-queue.js';

function recordingMetrics() {
  const results: PopulateResult[] = [];
  const depths: number[] = [];
  const metrics: CacheMetrics = {
    ...noopCacheMetrics,
    recordPopulate: (r) => results.push(r),
    setPopulateQueueDepth: (d) => depths.push(d),
  };
  return { metrics, results, depths };
}

describe('PopulateQueue', () => {
  it('runs at most `concurrency` writes at once and reports idle when all are done', async () => {
    const { metrics, results } = recordingMetrics();
    const queue = new PopulateQueue({ maxQueue: 100, concurrency: 3, metrics, logger: silentLogger });
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 20; i += 1) {
      queue.push(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running -= 1;
        return 'stored';
      });
    }
    await queue.idle();
    expect(peak).toBe(3);
    expect(results).toEqual(Array(20).fill('stored'));
    expect(queue.depth).toBe(0);
  });

  it('drops and counts writes beyond maxQueue, and counts a throwing write as error', async () => {
    const { metrics, results, depths } = recordingMetrics();
    const queue = new PopulateQueue({ maxQueue: 2, concurrency: 1, metrics, logger: silentLogger });
    const accepted = [
      queue.push(async () => 'stored'), // starts at once
      queue.push(async () => {
        throw new Error('boom');
      }),
      queue.push(async () => 'lost_lease'),
      queue.push(async () => 'stored'),
    ];
    expect(accepted).toEqual([true, true, true, false]);
    await queue.idle();
    expect(results.sort()).toEqual(['dropped', 'error', 'lost_lease', 'stored']);
    expect(Math.max(...depths)).toBe(3);
    expect(depths.at(-1)).toBe(0);
  });

  it('counts a batch job as its writes against maxQueue, and reports one result per write', async () => {
    const { metrics, results } = recordingMetrics();
    const queue = new PopulateQueue({ maxQueue: 10, concurrency: 1, metrics, logger: silentLogger });
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const batch = (n: number) => async () => {
      await blocked;
      return Array<PopulateResult>(n).fill('stored');
    };
    expect(queue.push(batch(50), 50)).toBe(true); // runs at once: an empty queue takes any size
    expect(queue.push(batch(8), 8)).toBe(true);
    expect(queue.push(batch(3), 3)).toBe(false); // 8 waiting + 3 > 10
    expect(queue.push(batch(2), 2)).toBe(true);
    expect(queue.depth).toBe(60);
    release();
    await queue.idle();
    expect(results.filter((r) => r === 'stored')).toHaveLength(60);
    expect(results.filter((r) => r === 'dropped')).toHaveLength(3);
  });

  it('counts every write of a throwing batch as an error', async () => {
    const { metrics, results } = recordingMetrics();
    const queue = new PopulateQueue({ maxQueue: 10, concurrency: 2, metrics, logger: silentLogger });
    queue.push(async () => {
      throw new Error('boom');
    }, 4);
    await queue.idle();
    expect(results).toEqual(Array(4).fill('error'));
  });
});
