/** Messages between the bench (parent) and the load-generator child process. */

/** A fixed request hammered by `connections` keep-alive connections for `durationSeconds`. */
export interface FixedLoadJob {
  kind: 'fixed';
  url: string;
  method?: 'GET' | 'POST' | 'PATCH';
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

/**
 * Zipf-distributed reads of `readPath` over `ids` (rank r -> ids[r-1]), with a share of writes
 * (`writeMethod` to `writePath` with `writeBody`). `{id}` in paths and `{n}` in the body are
 * replaced per request.
 */
export interface ZipfLoadJob {
  kind: 'zipf';
  baseUrl: string;
  ids: string[];
  s: number;
  seed: number;
  writeRatio: number;
  readPath: string;
  writePath: string;
  writeMethod: 'PATCH' | 'PUT' | 'POST';
  writeBody: string;
  headers?: Record<string, string>;
  /** Sent on writes only (an admin's Authorization): reads stay anonymous, as a shopper's are. */
  writeHeaders?: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

/** Every url requested once, all at the same time, each on its own connection. */
export interface BurstJob {
  kind: 'burst';
  urls: string[];
  headers?: Record<string, string>;
  timeoutMs: number;
}

export type LoadJob = FixedLoadJob | ZipfLoadJob | BurstJob;

export interface LoadResult {
  /** Successful (2xx) responses per second. */
  requestsPerSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** Latency percentiles in milliseconds (autocannon records whole milliseconds). */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Responses by X-Cache header value ('' when absent). */
  xCache: Record<string, number>;
  /** Read/write split of a zipf job. */
  reads?: number;
  writes?: number;
  statusCodes: Record<string, number>;
}

export type ParentMessage = { id: number; job: LoadJob };
export type ChildMessage = { id: number; result?: LoadResult; error?: string };
