import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import memjs from 'memjs';
import { memcachedStats } from './memcached-stats';

const execFileAsync = promisify(execFile);

export const MEMCSLAP = '/usr/bin/memcslap';

export function findMemcslap(): string | null {
  for (const candidate of [MEMCSLAP, '/usr/local/bin/memcslap']) if (existsSync(candidate)) return candidate;
  return null;
}

/**
 * Raw server throughput with memcached's own tooling: `memcslap` (libmemcached-tools), binary
 * protocol like memjs, TCP_NODELAY. Each thread issues `executeNumber` blocking gets of random
 * preloaded keys. The op count comes from the server's own `cmd_get` counter (memcslap prints
 * hits, not requests), the time from memcslap's "Time to get" line (the get phase only, not
 * the preload).
 */
export async function memcslapGetsPerSecond(
  binary: string,
  server: string,
  opts: { test: 'get' | 'mget'; threads: number; executeNumber: number },
): Promise<number> {
  const before = Number((await memcachedStats(server)).cmd_get);
  const { stdout } = await execFileAsync(binary, [
    `--servers=${server}`,
    '--binary',
    '--tcp-nodelay',
    `--test=${opts.test}`,
    `--concurrency=${opts.threads}`,
    `--execute-number=${opts.executeNumber}`,
  ]);
  const after = Number((await memcachedStats(server)).cmd_get);
  const match = /Time to m?get\s+\d+ keys by\s+\d+ threads:\s+([\d.]+) seconds/.exec(stdout);
  if (!match) throw new Error(`memcslap: unexpected output:\n${stdout}`);
  const seconds = Number(match[1]);
  return (after - before) / seconds;
}

/**
 * memjs' own ceiling: one connection, `window` gets kept in flight (memjs writes each request
 * without waiting for the previous reply: pipelining on one socket), for `durationMs`.
 */
export async function memjsPipelinedGetsPerSecond(
  server: string,
  opts: { window: number; durationMs: number; key: string },
): Promise<number> {
  const client = memjs.Client.create(server, {
    retries: 0,
    timeout: 2,
    keepAlive: true,
    logger: { log: () => {} },
  });
  try {
    await client.set(opts.key, Buffer.from(JSON.stringify({ id: 1, name: 'context', priceCents: 1999 })), {
      expires: 600,
    });
    let completed = 0;
    const started = performance.now();
    const deadline = started + opts.durationMs;
    const lane = async () => {
      while (performance.now() < deadline) {
        await client.get(opts.key);
        completed++;
      }
    };
    await Promise.all(Array.from({ length: opts.window }, lane));
    return completed / ((performance.now() - started) / 1000);
  } finally {
    client.close();
  }
}
