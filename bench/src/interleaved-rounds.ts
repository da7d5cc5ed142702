import type { LoadGenerator } from './load-client';
import type { FixedLoadJob, LoadResult } from './load-protocol';

export interface InterleavedRoundsOptions {
  rounds: number;
  warmupSeconds: number;
  durationSeconds: number;
  connections: number;
  log: (line: string) => void;
}

/**
 * Runs one fixed load per target per round, the targets in an order that rotates every round,
 * so a slow phase of the shared machine lands on every target alike and a ratio of two targets
 * in the same round divides numbers taken seconds apart. Every target is warmed up first.
 */
export async function runInterleavedRounds<K extends string>(
  load: Pick<LoadGenerator, 'run'>,
  targets: Record<K, Omit<FixedLoadJob, 'kind' | 'connections' | 'durationSeconds'>>,
  opts: InterleavedRoundsOptions,
  afterEach?: (target: K, result: LoadResult) => void,
): Promise<Record<K, LoadResult[]>> {
  const names = Object.keys(targets) as K[];
  const job = (name: K, durationSeconds: number): FixedLoadJob => ({
    kind: 'fixed',
    ...targets[name],
    connections: opts.connections,
    durationSeconds,
  });
  for (const name of names) await load.run(job(name, opts.warmupSeconds));
  const results = Object.fromEntries(names.map((n) => [n, [] as LoadResult[]])) as Record<K, LoadResult[]>;
  for (let round = 0; round < opts.rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      const result = await load.run(job(name, opts.durationSeconds));
      results[name].push(result);
      afterEach?.(name, result);
      opts.log(
        `  round ${round + 1}/${opts.rounds} ${name.padEnd(14)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s` +
          `  p99 ${result.latencyMs.p99} ms  X-Cache ${JSON.stringify(result.xCache)}`,
      );
    }
  }
  return results;
}
