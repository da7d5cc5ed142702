/**
 * The load-generator process. The bench forks it once and sends it jobs over IPC, so the
 * client's CPU work (autocannon, request building, Zipf draws) never shares an event loop with
 * the service under test or with the bench's own bookkeeping.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import type {
  BurstJob,
  ChildMessage,
  FixedLoadJob,
  LoadResult,
  ParentMessage,
  ZipfLoadJob,
} from './load-protocol';
import { mulberry32, ZipfSampler } from './zipf';

type CannonRequest = autocannon.Request;

function toResult(
  r: autocannon.Result,
  xCache: Record<string, number>,
  extra: Partial<LoadResult> = {},
): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const ok = r['2xx'];
  return {
    requestsPerSecond: r.duration > 0 ? ok / r.duration : 0,
    ok,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    durationSeconds: r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    xCache,
    statusCodes,
    ...extra,
  };
}

function countHeader(xCache: Record<string, number>, headers: CannonRequest['headers']): void {
  // autocannon passes raw header names (as the server cased them).
  let value = '';
  for (const name in headers) {
    if (name.length === 7 && name.toLowerCase() === 'x-cache') {
      const raw = headers[name];
      value = String(Array.isArray(raw) ? raw[0] : raw);
      break;
    }
  }
  xCache[value] = (xCache[value] ?? 0) + 1;
}

async function runFixed(job: FixedLoadJob): Promise<LoadResult> {
  const xCache: Record<string, number> = {};
  const result = await autocannon({
    url: job.url,
    method: job.method ?? 'GET',
    headers: job.headers,
    connections: job.connections,
    duration: job.durationSeconds,
    // One request per connection at a time: the numbers describe a service, not HTTP pipelining.
    pipelining: 1,
    requests: [{ onResponse: (_status, _body, _context, headers) => countHeader(xCache, headers) }],
  });
  return toResult(result, xCache);
}

async function runZipf(job: ZipfLoadJob): Promise<LoadResult> {
  const random = mulberry32(job.seed);
  const sampler = new ZipfSampler(job.ids.length, job.s, random);
  const xCache: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  let n = 0;
  const baseHeaders = { ...job.headers };
  const result = await autocannon({
    url: job.baseUrl,
    connections: job.connections,
    duration: job.durationSeconds,
    pipelining: 1,
    requests: [
      {
        setupRequest: (request) => {
          const id = encodeURIComponent(job.ids[sampler.next() - 1]!);
          if (random() < job.writeRatio) {
            writes++;
            n++;
            return {
              ...request,
              method: job.writeMethod,
              path: job.writePath.replace('{id}', id),
              headers: { ...baseHeaders, ...job.writeHeaders, 'content-type': 'application/json' },
              body: job.writeBody.replace('{n}', String(n)),
            };
          }
          reads++;
          return {
            ...request,
            method: 'GET',
            path: job.readPath.replace('{id}', id),
            headers: baseHeaders,
            body: undefined,
          };
        },
        onResponse: (_status, _body, _context, headers) => countHeader(xCache, headers),
      },
    ],
  });
  return toResult(result, xCache, { reads, writes });
}

async function runBurst(job: BurstJob): Promise<LoadResult> {
  // No keep-alive and no socket cap: every request really is on the wire at the same time.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const xCache: Record<string, number> = {};
  const statusCodes: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    job.urls.map(
      (url) =>
        new Promise<void>((resolve) => {
          const t0 = performance.now();
          const req = http.get(url, { agent, headers: job.headers, timeout: job.timeoutMs }, (res) => {
            res.resume();
            res.on('end', () => {
              latencies.push(performance.now() - t0);
              const code = String(res.statusCode);
              statusCodes[code] = (statusCodes[code] ?? 0) + 1;
              const x = String(res.headers['x-cache'] ?? '');
              xCache[x] = (xCache[x] ?? 0) + 1;
              resolve();
            });
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', () => {
            errors++;
            resolve();
          });
        }),
    ),
  );
  agent.destroy();
  const durationSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const ok = Object.entries(statusCodes)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    requestsPerSecond: ok / durationSeconds,
    ok,
    non2xx: latencies.length - ok,
    errors,
    durationSeconds,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies[latencies.length - 1] ?? 0 },
    xCache,
    statusCodes,
  };
}

process.on('message', (message: ParentMessage) => {
  const { id, job } = message;
  const run = job.kind === 'fixed' ? runFixed(job) : job.kind === 'zipf' ? runZipf(job) : runBurst(job);
  run.then(
    (result) => process.send?.({ id, result } satisfies ChildMessage),
    (err: unknown) =>
      process.send?.({ id, error: err instanceof Error ? err.stack : String(err) } satisfies ChildMessage),
  );
});
process.on('disconnect', () => process.exit(0));
