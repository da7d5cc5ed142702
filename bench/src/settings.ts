/** Run sizes. Full: the numbers for the README (< 10 min on 2 cores). Quick: a < 1 min smoke run. */
export interface BenchSettings {
  mode: 'full' | 'quick';
  rounds: number;
  warmupSeconds: number;
  durationSeconds: number;
  connections: number;
  p3Iterations: number;
  p4Requests: number;
  p5Rounds: number;
  p5Requests: number;
  p6Updates: number;
  p8Products: number;
  p8Connections: number;
  /** Products requested (in batches of 50) before the Zipf run, so it starts from a warm cache. */
  p8PrewarmProducts: number;
  memcslapExecuteNumber: number;
  memjsDurationMs: number;
}

/**
 * How the bench runs the services: the shipped shape (the Dockerfile's esbuild bundle, not tsx)
 * with the node flags we recommend for production. Measured on this 2-core box, catalog under
 * the P1 load (paired runs, two catalogs side by side): `--liftoff-only` keeps Prisma 7's
 * WebAssembly query compiler on V8's baseline tier (about 30 MB less, no measurable cost on the
 * bypass path); `--heap-growing-percent=50` grows the old generation by 1.5x its live size
 * instead of up to 4x between full GCs (peak RSS 264 -> 174 MB, hit req/s about -3%).
 */
export const SERVICE_RUNTIME = 'bundle' as const;
export const SERVICE_NODE_ARGS: readonly string[] = ['--liftoff-only', '--heap-growing-percent=50'];

export function settingsFor(quick: boolean): BenchSettings {
  return quick
    ? {
        mode: 'quick',
        rounds: 2,
        warmupSeconds: 1,
        durationSeconds: 1,
        connections: 32,
        p3Iterations: 1000,
        p4Requests: 5,
        p5Rounds: 2,
        p5Requests: 500,
        p6Updates: 20,
        p8Products: 100_000,
        p8Connections: 32,
        p8PrewarmProducts: 5_000,
        memcslapExecuteNumber: 5_000,
        memjsDurationMs: 500,
      }
    : {
        mode: 'full',
        rounds: 5,
        warmupSeconds: 3,
        durationSeconds: 5,
        connections: 32,
        p3Iterations: 10_000,
        p4Requests: 50,
        p5Rounds: 5,
        p5Requests: 500,
        p6Updates: 200,
        p8Products: 100_000,
        p8Connections: 32,
        p8PrewarmProducts: 100_000,
        memcslapExecuteNumber: 20_000,
        memjsDurationMs: 2_000,
      };
}
