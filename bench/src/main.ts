/**
 * `npm run bench`: starts its own memcached nodes and its own stack (free ports, fresh
 * databases, isolated RabbitMQ names, so it runs beside `npm run stack`), drives load from a
 * separate process, and prints/writes the table of cases P1..P8 plus context rows.
 * `npm run bench -- --quick`: the same cases with tiny sizes (about 2 min), for CI; no timing is
 * asserted, but a case that cannot run fails the command.
 * `npm run bench -- --busy`: only P5 and P6, each while the P1 load runs (with --quick: small).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
// Relative imports like scripts/ use: `npm run bench` runs tsx from the workspace root, where no
// tsconfig.json maps the @memshop/* aliases.
import { ensureMemcached, relaxedRateLimitEnv, startMemcachedCluster } from '../../libs/testing/src';
import { startStack, type Stack } from '../../scripts/stack';
import { renderBenchChart } from './bench-chart';
import { renderSideBySideChart } from './side-by-side-chart';
import { runAuditorCost, type AuditorCostResult } from './cases/auditor-cost';
import { underP1Load, type BusyLoadResult } from './cases/busy-load';
import { runContext, type ContextResult } from './cases/context';
import type { ThroughputResult } from './cases/p1-p2-p7-throughput';
import { runThroughputWithBaselines } from './cases/p1b-bare-express';
import { runGetOrLoadMicro, type P3Result } from './cases/p3-get-or-load';
import { runBatch, type BatchResult } from './cases/p4-batch';
import { runStampede, type StampedeResult } from './cases/p5-stampede';
import { runInvalidationLag, type InvalidationLagResult } from './cases/p6-invalidation-lag';
import { runMemoryOptions, type MemoryOptionsResult } from './cases/p7-memory-options';
import { runZipfMix, type ZipfMixResult } from './cases/p8-zipf-mix';
import { runColdStart, type ColdStartResult } from './cases/p9-cold-start';
import { runResize, type ResizeResult } from './cases/p10-resize';
import { coldResizeSizes, coldStartRows, resizeRows } from './cold-resize-rows';
import { writeTimelineCharts } from './timeline-chart';
import { runNearCacheZipf, type NearCacheZipfResult } from './cases/near-cache-zipf';
import { LoadGenerator } from './load-client';
import { renderTable, verdict, type Row } from './report';
import { topUpProducts } from './seed-products';
import { selectedVariants } from './variants';
import { SERVICE_NODE_ARGS, SERVICE_RUNTIME, settingsFor, type BenchSettings } from './settings';
import { summarize } from './stats';

const RESULTS_DIR = path.join(__dirname, '..', 'results');
const log = (line: string) => console.log(line);

interface Results {
  p3?: P3Result;
  context?: ContextResult;
  throughput?: ThroughputResult;
  p4?: BatchResult;
  p5?: StampedeResult;
  p6?: InvalidationLagResult;
  p8?: ZipfMixResult;
  nearCache?: NearCacheZipfResult;
  auditorCost?: AuditorCostResult;
  p7Options?: MemoryOptionsResult;
  coldStart?: ColdStartResult;
  resize?: ResizeResult;
  p5Busy?: BusyLoadResult<StampedeResult>;
  p6Busy?: BusyLoadResult<InvalidationLagResult>;
}

const HELP = `npm run bench [-- options]

  (none)     every case, 5 runs each (about 12 min on 2 cores); writes bench/results/latest.*
  --quick    every case with tiny sizes, a smoke run for CI (about 2 min); writes bench/results/quick.*
  --busy     only P5 (stampede loader calls) and P6 (invalidation lag) while the P1 hit load
             runs against the same catalog; writes bench/results/busy.json (quick.busy.json with --quick)
  --publish-after-commit
             catalog without its relay thread (OUTBOX_PUBLISH_AT_COMMIT=false): the writer publishes
             after reading its COMMIT's reply, for comparison; adds .after-commit to the file names
  --no-early-purge
             order without its early purge (INVALIDATION_EARLY_PURGE=false): copies are purged by
             the durable queue's delivery alone; adds .no-early-purge to the file names
  --no-copy-purge
             catalog and user without their writers' purge of order's copies (INVALIDATION_PRODUCT_COPIES
             and INVALIDATION_USER_COPIES empty): the events alone; adds .no-copy-purge to the file names
  --help     this text`;

/** Runs one case; a failure is recorded (its rows print 'n/a (failed: ...)') and the next case runs. */
async function attempt<T>(
  name: string,
  failures: Map<string, string>,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const started = performance.now();
  log(`\n${name}`);
  try {
    const result = await fn();
    log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    failures.set(name.split(' ')[0]!, message);
    log(`  FAILED: ${err instanceof Error ? (err.stack ?? message) : message}`);
    return undefined;
  }
}

function buildRows(r: Results, s: BenchSettings, failures: Map<string, string>): Row[] {
  const failed = (...ids: string[]) => {
    for (const id of ids) {
      const message = failures.get(id);
      if (message) return `n/a (failed: ${message.split('\n')[0]!.slice(0, 80)})`;
    }
    return 'n/a';
  };
  const t = r.throughput;
  const rows: Row[] = [
    {
      id: 'P1',
      measure: 'cache-hit GET /products/:id req/s ÷ in-memory Express route req/s',
      summary: t?.hitOverMemory ?? null,
      unit: '',
      digits: 2,
      target: { op: '>=', value: 0.9 },
      note: failed('P1'),
    },
    {
      id: 'P1b',
      measure: 'cache-hit GET /products/:id req/s ÷ bare Express 5 process (res.json from memory) req/s',
      summary: t?.hitOverBareExpress ?? null,
      unit: '',
      digits: 2,
      target: { op: '>=', value: 0.9 },
      note: failed('P1'),
    },
    {
      id: 'P1c',
      measure: 'context: node:http + memcached get (entry bytes as stored) req/s ÷ bare Express req/s',
      summary: t?.nodeHttpOverBareExpress ?? null,
      unit: '',
      digits: 2,
      target: null,
      note: failed('P1'),
    },
    {
      id: 'P2',
      measure: 'cache-hit req/s ÷ same endpoint with cache bypassed (Prisma → Postgres)',
      summary: t?.hitOverBypass ?? null,
      unit: '',
      digits: 2,
      target: { op: '>=', value: 4 },
      note: failed('P1'),
    },
    {
      id: 'P3',
      measure: 'getOrLoad hit p50 ÷ bare memjs get p50 (same key, same node)',
      summary: r.p3?.ratio ?? null,
      unit: '',
      digits: 2,
      target: { op: '<=', value: 1.15 },
      note: failed('P3'),
    },
    {
      id: 'P4',
      measure: 'GET /products?ids= (50 ids, all cached): memcached requests per node',
      summary: r.p4?.requestsPerNode ?? null,
      unit: '',
      digits: 2,
      target: { op: '==', value: 1, over: 'all' },
      note: failed('P4'),
    },
    {
      id: 'P5',
      measure: `${s.p5Requests} concurrent cold GETs of one key over 3 instances: loader calls`,
      summary: r.p5?.loaderCalls ?? null,
      unit: '',
      digits: 0,
      target: { op: '==', value: 1, over: 'all' },
      note: failed('P5'),
    },
    {
      id: 'P6',
      measure: `PATCH commit → order-service copy purged, p50 (${s.p6Updates} updates)`,
      summary: r.p6?.p50Ms ?? null,
      unit: 'ms',
      digits: 1,
      target: null,
      note: failed('P6'),
    },
    {
      id: 'P6',
      measure: `PATCH commit → order-service copy purged, p99 (${s.p6Updates} updates)`,
      summary: r.p6?.p99Ms ?? null,
      unit: 'ms',
      digits: 1,
      target: { op: '<', value: 20, unit: 'ms' },
      note: failed('P6'),
    },
    {
      id: 'P6',
      measure: `context: from the event's stamp (before catalog's outbox INSERT) → purged, p99`,
      summary: r.p6 ? summarize([r.p6.fromEventStampP99Ms]) : null,
      unit: 'ms',
      digits: 1,
      target: null,
      note: failed('P6'),
    },
    {
      id: 'P7',
      measure: 'peak RSS (VmHWM) of the catalog process under the P1 load',
      summary: t ? summarize([t.peakRssMb]) : null,
      unit: 'MB',
      digits: 0,
      target: { op: '<', value: 150, unit: 'MB' },
      note: failed('P1'),
    },
    {
      id: 'P8',
      measure: 'Zipf(1.0) over 100k products, 5% writes: hit ratio',
      summary: r.p8?.hitRatio ?? null,
      unit: '',
      digits: 3,
      target: { op: '>=', value: 0.9 },
      note: failed('P8'),
    },
    {
      id: 'P8',
      measure: 'Zipf(1.0) over 100k products, 5% writes: p99 latency',
      summary: r.p8?.p99Ms ?? null,
      unit: 'ms',
      digits: 0,
      target: null,
      note: failed('P8'),
    },
    ...nearCacheRows(r.nearCache, failed('P11')),
    {
      id: 'A1',
      measure: `staleness auditor every ${r.auditorCost?.auditIntervalMs ?? 200} ms: hit req/s ÷ auditor off (P1 load)`,
      summary: r.auditorCost?.onOverOff ?? null,
      unit: '',
      digits: 3,
      target: null,
      note: failed('A1'),
    },
    {
      id: 'A1',
      measure: 'noise of that ratio: auditor off ÷ a second auditor-off process, same rounds',
      summary: r.auditorCost?.offOverOff ?? null,
      unit: '',
      digits: 3,
      target: null,
      note: failed('A1'),
    },
    ...coldStartRows(r.coldStart, failed('P9')),
    ...resizeRows(r.resize, failed('P10')),
    {
      id: 'C1',
      measure: `context: memcslap get, ${r.context?.memcslapThreads ?? 2} threads, binary protocol (ops/s)`,
      summary: r.context?.memcslapGet ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: r.context?.memcslapMissing ? 'n/a (install libmemcached-tools)' : failed('C'),
    },
    {
      id: 'C2',
      measure: 'context: memcslap mget (multi-get keys/s)',
      summary: r.context?.memcslapMget ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: r.context?.memcslapMissing ? 'n/a (install libmemcached-tools)' : failed('C'),
    },
    {
      id: 'C3',
      measure: `context: memjs pipelined get, 1 connection, ${r.context?.memjsWindow ?? 64} in flight (ops/s)`,
      summary: r.context?.memjsPipelined ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: failed('C'),
    },
    {
      id: 'C4',
      measure: `context: catalog cache-hit GET /products/:id, ${s.connections} connections (req/s)`,
      summary: t?.requestsPerSecond.hit ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: failed('P1'),
    },
  ];
  return rows;
}

/** P11 rows: Zipf(1.0) reads with the near cache on and off, and its memory (part of P7). */
function nearCacheRows(n: NearCacheZipfResult | undefined, note: string): Row[] {
  return [
    {
      id: 'P11',
      measure: `Zipf(1.0) reads, near cache on ÷ off: req/s (off ${n?.offRequestsPerSecond.median.toFixed(0) ?? '-'}, on ${n?.onRequestsPerSecond.median.toFixed(0) ?? '-'}; L1 hit ratio ${n?.nearHitRatio.toFixed(3) ?? '-'})`,
      summary: n?.onOverOff ?? null,
      unit: '',
      digits: 2,
      target: null,
      note,
    },
    {
      id: 'P11',
      measure: `Zipf(1.0) reads, near cache on: p99 (off: ${n?.offP99Ms.median.toFixed(0) ?? '-'} ms)`,
      summary: n?.onP99Ms ?? null,
      unit: 'ms',
      digits: 0,
      target: null,
      note,
    },
    {
      id: 'P7',
      measure: `peak RSS with the near cache on under Zipf reads (held ${n ? (n.nearBytesMb * 1024).toFixed(0) : '-'} KB of ${n?.nearMaxBytesMb ?? 16} MB; off: ${n?.offPeakRssMb?.toFixed(0) ?? '-'} MB)`,
      summary: n?.onPeakRssMb == null ? null : summarize([n.onPeakRssMb]),
      unit: 'MB',
      digits: 0,
      target: { op: '<', value: 150, unit: 'MB' },
      note,
    },
  ];
}

/** The --busy table: P5 and P6 measured while the P1 load runs. */
function busyRows(r: Results, s: BenchSettings, failures: Map<string, string>): Row[] {
  const failed = (id: string) => {
    const message = failures.get(id);
    return message ? `n/a (failed: ${message.split('\n')[0]!.slice(0, 80)})` : 'n/a';
  };
  return [
    {
      id: 'P5',
      measure: `busy: ${s.p5Requests} concurrent cold GETs of one key over 3 instances: loader calls`,
      summary: r.p5Busy?.result.loaderCalls ?? null,
      unit: '',
      digits: 0,
      target: { op: '==', value: 1, over: 'all' },
      note: failed('P5'),
    },
    {
      id: 'P6',
      measure: `busy: PATCH commit → order-service copy purged, p50 (${s.p6Updates} updates)`,
      summary: r.p6Busy?.result.p50Ms ?? null,
      unit: 'ms',
      digits: 1,
      target: null,
      note: failed('P6'),
    },
    {
      id: 'P6',
      measure: `busy: PATCH commit → order-service copy purged, p99 (${s.p6Updates} updates)`,
      summary: r.p6Busy?.result.p99Ms ?? null,
      unit: 'ms',
      digits: 1,
      target: { op: '<', value: 20, unit: 'ms' },
      note: failed('P6'),
    },
    {
      id: 'P6',
      measure: `busy context: from the event's stamp (before catalog's outbox INSERT) → purged, p99`,
      summary: r.p6Busy ? summarize([r.p6Busy.result.fromEventStampP99Ms]) : null,
      unit: 'ms',
      digits: 1,
      target: null,
      note: failed('P6'),
    },
    {
      id: 'C4',
      measure: `context: the P1 load beside P5, cache-hit req/s (${s.connections} connections)`,
      summary: r.p5Busy?.backgroundRequestsPerSecond ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: failed('P5'),
    },
    {
      id: 'C4',
      measure: `context: the P1 load beside P6, cache-hit req/s (${s.connections} connections)`,
      summary: r.p6Busy?.backgroundRequestsPerSecond ?? null,
      unit: '',
      digits: 0,
      target: null,
      note: failed('P6'),
    },
  ];
}

/** P7's second table: peak RSS and req/s cost of each memory option, one process each. */
function memoryOptionRows(r: Results, failures: Map<string, string>): Row[] {
  const options = r.p7Options?.options;
  if (!options) {
    const message = failures.get('P7o');
    const note = message ? `n/a (failed: ${message.split('\n')[0]!.slice(0, 80)})` : 'n/a';
    return [{ id: 'P7o', measure: 'memory options', summary: null, unit: '', digits: 0, target: null, note }];
  }
  return options.flatMap((o): Row[] => [
    {
      id: 'P7o',
      measure: `${o.name} [${o.nodeArgs.join(' ') || 'none'}]: peak RSS`,
      summary: o.peakRssMb === null ? null : summarize([o.peakRssMb]),
      unit: 'MB',
      digits: 0,
      target: { op: '<', value: 150, unit: 'MB' },
      note: 'n/a (the process exited under the load)',
    },
    {
      id: 'P7o',
      measure: `${o.name}: hit req/s ÷ shipped flags (bypass: ${o.bypassOverShipped.median.toFixed(2)}, errors ${o.errors})`,
      summary: o.hitOverShipped,
      unit: '',
      digits: 2,
      target: null,
    },
  ]);
}

function machineInfo(): Record<string, unknown> {
  let memcachedVersion = 'unknown';
  try {
    memcachedVersion = execFileSync('memcached', ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memcached: memcachedVersion,
  };
}

async function catalogProductIds(databaseUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ id: number }>('SELECT id FROM products ORDER BY id')).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

async function firstUserId(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number }>('SELECT id FROM users ORDER BY id LIMIT 1');
    if (!rows[0]) throw new Error('the user database has no users (is the user seed there?)');
    return rows[0].id;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    log(HELP);
    return;
  }
  const quick = process.argv.includes('--quick');
  const busy = process.argv.includes('--busy');
  const variant = selectedVariants(process.argv);
  const s = settingsFor(quick);
  const startedAt = new Date();
  const started = performance.now();
  log(
    `memshop bench (${s.mode}${busy ? ', busy' : ''}${variant.label}): ${s.rounds} rounds of ${s.durationSeconds} s per case, ${s.connections} connections`,
  );

  const failures = new Map<string, string>();
  const results: Results = {};
  let stack: Stack | undefined;
  let load: LoadGenerator | undefined;
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping what the bench started`);
    void Promise.allSettled([load?.stop(), stack?.stop()]).then(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    await ensureMemcached();
    if (!busy) {
      // P3 and the context rows need one quiet node and no stack: started first, stopped after.
      const node = await startMemcachedCluster(1, { memoryMb: 256 });
      try {
        results.p3 = await attempt(
          'P3 getOrLoad hit vs bare memjs get (in-process, sequential)',
          failures,
          () => runGetOrLoadMicro(node.servers[0]!, { rounds: s.rounds, iterations: s.p3Iterations }),
        );
        results.context = await attempt('C context: memcslap and memjs on their own', failures, () =>
          runContext(node.servers[0]!, {
            rounds: Math.min(s.rounds, 3),
            executeNumber: s.memcslapExecuteNumber,
            memjsDurationMs: s.memjsDurationMs,
          }),
        );
      } finally {
        await node.stop();
      }
    }
    log(
      `\nstarting the stack (3 memcached nodes, fresh databases, catalog x3, user, order; ${SERVICE_RUNTIME}, node ${SERVICE_NODE_ARGS.join(' ')})`,
    );
    const stackStarted = performance.now();
    stack = await startStack({
      ports: { catalog: 0, user: 0, order: 0 },
      instances: { catalog: 3 },
      databases: 'fresh',
      rabbit: 'isolated',
      memcached: { count: 3, memoryMb: 128 },
      logLevel: 'warn',
      logDir: path.join(__dirname, '..', '..', 'tmp', 'bench-stack'),
      env: {
        ...relaxedRateLimitEnv,
        BENCH_ROUTES: '1',
        ...variant.env,
      },
      runtime: SERVICE_RUNTIME,
      nodeArgs: [...SERVICE_NODE_ARGS],
      onProgress: (m) => log(`  stack: ${m}`),
    });
    log(`  stack up in ${((performance.now() - stackStarted) / 1000).toFixed(1)} s`);
    const running = stack;
    load = LoadGenerator.start();
    const loadGenerator = load;
    const catalog = running.processes.catalog;
    const catalogUrl = catalog[0]!.url;
    const seededIds = await catalogProductIds(running.databases.catalog.url);
    if (seededIds.length < 600)
      throw new Error(`the catalog seed has ${seededIds.length} products; the bench needs 600`);

    const httpRounds = {
      rounds: s.rounds,
      warmupSeconds: s.warmupSeconds,
      durationSeconds: s.durationSeconds,
      connections: s.connections,
      log,
    };
    if (busy) {
      const p1Load = { catalogUrl, productId: seededIds[0]!, connections: s.connections };
      results.p5Busy = await attempt('P5 cold stampede while the P1 load runs', failures, () =>
        underP1Load(p1Load, () =>
          runStampede(loadGenerator, {
            catalogUrls: catalog.map((p) => p.url),
            catalogAdminUrls: catalog.map((p) => p.adminUrl),
            memcachedServers: running.memcachedServers,
            productIds: seededIds.slice(500, 500 + s.p5Rounds),
            requests: s.p5Requests,
          }),
        ),
      );
      const userId = await firstUserId(running.databases.user.url);
      results.p6Busy = await attempt('P6 invalidation lag while the P1 load runs', failures, () =>
        underP1Load(p1Load, () =>
          runInvalidationLag({
            catalogUrl,
            orderUrl: running.urls.order,
            orderAdminUrl: running.adminUrls.order,
            memcachedServers: running.memcachedServers,
            catalogDatabaseUrl: running.databases.catalog.url,
            userId,
            auth: running.auth,
            productIds: seededIds.slice(200, 210),
            updates: s.p6Updates,
          }),
        ),
      );
    } else {
      results.throughput = await attempt(
        'P1/P2/P7 hit vs in-memory route vs bypass vs bare Express (HTTP, autocannon)',
        failures,
        () =>
          runThroughputWithBaselines(loadGenerator, {
            memcachedServers: running.memcachedServers,
            catalogUrl,
            catalogPid: catalog[0]!.pid!,
            productId: seededIds[0]!,
            ...httpRounds,
          }),
      );
      // Both cases start catalog processes of their own beside the stack's, with the P1 load.
      const sideBySide = {
        productId: seededIds[0]!,
        logDir: path.join(__dirname, '..', '..', 'tmp', 'bench-stack'),
        ...httpRounds,
      };
      results.auditorCost = await attempt('A1 staleness auditor cost: off x2 vs every 200 ms', failures, () =>
        runAuditorCost(loadGenerator, running, { ...sideBySide, allIds: seededIds }),
      );
      results.p7Options = await attempt('P7o memory options: one catalog per option', failures, () =>
        runMemoryOptions(loadGenerator, running, { ...sideBySide, rounds: Math.min(s.rounds, 3) }),
      );
      results.p4 = await attempt('P4 GET /products?ids= with 50 ids', failures, () =>
        runBatch({
          catalogUrl,
          catalogAdminUrl: catalog[0]!.adminUrl,
          memcachedServers: running.memcachedServers,
          ids: seededIds.slice(100, 150),
          requests: s.p4Requests,
        }),
      );
      results.p5 = await attempt('P5 cold stampede over 3 catalog instances', failures, () =>
        runStampede(loadGenerator, {
          catalogUrls: catalog.map((p) => p.url),
          catalogAdminUrls: catalog.map((p) => p.adminUrl),
          memcachedServers: running.memcachedServers,
          productIds: seededIds.slice(500, 500 + s.p5Rounds),
          requests: s.p5Requests,
        }),
      );
      results.p6 = await attempt(
        'P6 invalidation lag: PATCH on catalog -> order-service copy purged',
        failures,
        async () =>
          runInvalidationLag({
            catalogUrl,
            orderUrl: running.urls.order,
            orderAdminUrl: running.adminUrls.order,
            memcachedServers: running.memcachedServers,
            catalogDatabaseUrl: running.databases.catalog.url,
            userId: await firstUserId(running.databases.user.url),
            auth: running.auth,
            productIds: seededIds.slice(200, 210),
            updates: s.p6Updates,
          }),
      );
      results.p8 = await attempt('P8 Zipf(1.0) mix over 100k products, 5% writes', failures, async () => {
        const seedStarted = performance.now();
        const ids = await topUpProducts(running.databases.catalog.url, s.p8Products);
        log(
          `  catalog database topped up to ${ids.length} products in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
        );
        return runZipfMix(loadGenerator, {
          catalogUrl,
          catalogAdminUrl: catalog[0]!.adminUrl,
          ids,
          auth: running.auth,
          prewarmIds: s.p8PrewarmProducts,
          writeRatio: 0.05,
          rounds: s.rounds,
          warmupSeconds: s.warmupSeconds,
          durationSeconds: s.durationSeconds,
          connections: s.p8Connections,
          log,
        });
      });
      results.nearCache = await attempt('P11 near cache on vs off, Zipf(1.0) reads', failures, async () =>
        runNearCacheZipf(loadGenerator, running, {
          ids: await topUpProducts(running.databases.catalog.url, s.p8Products),
          rounds: s.rounds,
          warmupSeconds: s.warmupSeconds,
          durationSeconds: s.durationSeconds,
          connections: s.p8Connections,
          logDir: path.join(__dirname, '..', '..', 'tmp', 'bench-stack'),
          log,
        }),
      );
      // Last: their catalog processes join the stack's invalidation queue (no case writes meanwhile).
      const sizes = coldResizeSizes(s.mode);
      const ownCache = { logDir: path.join(__dirname, '..', '..', 'tmp', 'bench-stack'), log };
      results.coldStart = await attempt('P9 cold start, leases on vs off', failures, async () =>
        runColdStart(loadGenerator, running, {
          ids: await topUpProducts(running.databases.catalog.url, sizes.products),
          ...sizes.cold,
          ...ownCache,
        }),
      );
      results.resize = await attempt(
        'P10 resize 3 -> 4 -> 3 memcached nodes under load',
        failures,
        async () =>
          runResize(loadGenerator, running, {
            ids: await topUpProducts(running.databases.catalog.url, sizes.products),
            ...sizes.resize,
            ...ownCache,
          }),
      );
    }
  } catch (err) {
    failures.set('setup', err instanceof Error ? err.message : String(err));
    log(`\nSETUP FAILED: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
  } finally {
    await load?.stop();
    await stack?.stop().catch((err: unknown) => log(`stopping the stack: ${err}`));
  }

  const rows = busy ? busyRows(results, s, failures) : buildRows(results, s, failures);
  const totalSeconds = (performance.now() - started) / 1000;
  log(
    `\nmemshop bench (${s.mode}${busy ? ', busy' : ''}${variant.label}), ${totalSeconds.toFixed(0)} s, ${os.cpus().length} CPUs, ${process.version}\n`,
  );
  log(renderTable(rows));
  const optionRows = busy ? [] : memoryOptionRows(results, failures);
  if (!busy) {
    log(`\nP7 options (each a catalog process of its own under the P1/P2 load, side by side)\n`);
    log(renderTable(optionRows));
  }

  mkdirSync(RESULTS_DIR, { recursive: true });
  const report = {
    generatedAt: startedAt.toISOString(),
    mode: s.mode,
    busy,
    variant: variant.label.replace(/^, /, '') || null,
    loadAverageAtEnd: os.loadavg(),
    totalSeconds,
    machine: machineInfo(),
    settings: s,
    services: { runtime: SERVICE_RUNTIME, nodeArgs: SERVICE_NODE_ARGS },
    rows: rows.map((row) => ({
      id: row.id,
      measure: row.measure,
      median: row.summary?.median ?? null,
      min: row.summary?.min ?? null,
      max: row.summary?.max ?? null,
      runs: row.summary?.runs ?? [],
      unit: row.unit,
      target: row.target,
      met: verdict(row),
      note: row.summary ? undefined : row.note,
    })),
    memoryOptions: optionRows.map((row) => ({
      measure: row.measure,
      median: row.summary?.median ?? null,
      min: row.summary?.min ?? null,
      max: row.summary?.max ?? null,
      unit: row.unit,
      met: verdict(row),
    })),
    details: results,
    failures: Object.fromEntries(failures),
  };
  // A quick run (CI's smoke test) must not replace the full run's numbers that the README shows.
  const base =
    (busy ? (quick ? 'quick.busy' : 'busy') : report.mode === 'quick' ? 'quick' : 'latest') +
    variant.fileSuffix;
  const jsonPath = path.join(RESULTS_DIR, `${base}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  if (busy) {
    log(`\nwrote ${path.relative(process.cwd(), jsonPath)}`);
  } else {
    const svgPath = path.join(RESULTS_DIR, `${base}.svg`);
    writeFileSync(svgPath, renderBenchChart(results, s, report.machine, startedAt));
    const sideBySidePath = path.join(RESULTS_DIR, `${base}.side-by-side.svg`);
    writeFileSync(
      sideBySidePath,
      renderSideBySideChart(
        results,
        `${startedAt.toISOString().slice(0, 10)} · ${s.mode} run · ${os.cpus().length} CPUs · load average at the end ${os.loadavg()[0]!.toFixed(1)}`,
      ),
    );
    log(
      `\nwrote ${path.relative(process.cwd(), jsonPath)}, ${path.relative(process.cwd(), svgPath)} and ${path.relative(process.cwd(), sideBySidePath)}`,
    );
    for (const written of writeTimelineCharts(results, RESULTS_DIR, base, s.mode))
      log(`wrote ${path.relative(process.cwd(), written)}`);
  }
  if (failures.size > 0) {
    log(`\n${failures.size} case(s) could not run: ${[...failures.keys()].join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
