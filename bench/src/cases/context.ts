import { findMemcslap, memcslapGetsPerSecond, memjsPipelinedGetsPerSecond } from '../memcached-context';
import { summarize, type Summary } from '../stats';

export interface ContextResult {
  memcslapGet: Summary | null;
  memcslapMget: Summary | null;
  memjsPipelined: Summary;
  memcslapMissing: boolean;
  memcslapThreads: number;
  memjsWindow: number;
}

const THREADS = 2;
const WINDOW = 64;

/** Context rows: how fast the memcached node and memjs are on this machine, on their own. */
export async function runContext(
  server: string,
  opts: { rounds: number; executeNumber: number; memjsDurationMs: number },
): Promise<ContextResult> {
  const memjs: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    memjs.push(
      await memjsPipelinedGetsPerSecond(server, {
        window: WINDOW,
        durationMs: opts.memjsDurationMs,
        key: 'bench:context:memjs',
      }),
    );
  }
  const binary = findMemcslap();
  let get: number[] | null = null;
  let mget: number[] | null = null;
  if (binary) {
    get = [];
    mget = [];
    for (let round = 0; round < opts.rounds; round++) {
      get.push(
        await memcslapGetsPerSecond(binary, server, {
          test: 'get',
          threads: THREADS,
          executeNumber: opts.executeNumber,
        }),
      );
      mget.push(
        await memcslapGetsPerSecond(binary, server, {
          test: 'mget',
          threads: THREADS,
          executeNumber: opts.executeNumber,
        }),
      );
    }
  }
  return {
    memcslapGet: get ? summarize(get) : null,
    memcslapMget: mget ? summarize(mget) : null,
    memjsPipelined: summarize(memjs),
    memcslapMissing: !binary,
    memcslapThreads: THREADS,
    memjsWindow: WINDOW,
  };
}
