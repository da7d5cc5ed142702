import { runInterleavedRounds } from './interleaved-rounds';
import type { FixedLoadJob, LoadJob, LoadResult } from './load-protocol';

/** A load generator that records what it was asked to run (the real one drives autocannon). */
function recordingLoad() {
  const jobs: FixedLoadJob[] = [];
  const result = (rps: number): LoadResult => ({
    requestsPerSecond: rps,
    ok: rps,
    non2xx: 0,
    errors: 0,
    durationSeconds: 1,
    latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
    xCache: {},
    statusCodes: {},
  });
  return {
    jobs,
    run: async (job: LoadJob) => {
      if (job.kind !== 'fixed') throw new Error(`unexpected ${job.kind} job`);
      jobs.push(job);
      return result(jobs.length);
    },
  };
}

describe('runInterleavedRounds', () => {
  it('warms every target up, then rotates the order each round so no target always goes first', async () => {
    const load = recordingLoad();
    const results = await runInterleavedRounds(
      load,
      { a: { url: 'http://a' }, b: { url: 'http://b' }, c: { url: 'http://c' } },
      { rounds: 3, warmupSeconds: 2, durationSeconds: 5, connections: 8, log: () => undefined },
    );
    const urls = load.jobs.map((j) => j.url.slice(-1));
    expect(urls).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(load.jobs.slice(0, 3).every((j) => j.durationSeconds === 2)).toBe(true);
    expect(load.jobs.slice(3).every((j) => j.durationSeconds === 5 && j.connections === 8)).toBe(true);
    // Results are kept per target in round order, whatever the order inside a round was.
    expect(results.a.map((r) => r.requestsPerSecond)).toEqual([4, 9, 11]);
    expect(results.b.map((r) => r.requestsPerSecond)).toEqual([5, 7, 12]);
  });
});
