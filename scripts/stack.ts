/**
 * `npm run stack`: the whole memshop stack, natively, on loopback. Three memcached nodes,
 * the three databases migrated and seeded, catalog :3001, user :3002, order :3003, until
 * Ctrl-C or SIGTERM; then everything it started is stopped (children by pid).
 *
 * `startStack()` is the same thing as a function: the demo, the e2e test and the benchmark start
 * their stacks with it (free ports, fresh databases, isolated RabbitMQ names, several instances).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {
  createAuthKeys,
  createTestDatabase,
  deleteRabbitObjects,
  startMemcachedCluster,
  uniqueName,
  type AuthKeys,
  type MemcachedCluster,
  type TestDatabase,
  withDeadLetterObjects,
} from '../libs/testing/src';
import {
  databaseUrl,
  DEFAULT_PG_ADMIN_URL,
  ensurePrismaClient,
  migrateDatabase,
  seedDatabase,
} from './lib/stack-databases';
import { watchParent } from './lib/parent-watch';
import { BUNDLE_DIR, bundleService } from './lib/service-bundle';
import { defaultInvalidationQueue } from '../libs/cache/src/advanced';
import { BROKER_NAME_PREFIX } from '../libs/service-kit/src/memshop-cache-names';
import { findFreePort } from '../libs/testing/src/free-port';
import { portInUse, ServiceProcess, waitUntilReady, WORKSPACE_ROOT } from './lib/service-process';

// Under Jest, `process` is a per-file copy whose 'exit' never fires; the real one does.
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

export type ServiceName = 'catalog' | 'user' | 'order';
export const SERVICES: readonly ServiceName[] = ['catalog', 'user', 'order'];
export const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = {
  catalog: 3001,
  user: 3002,
  order: 3003,
};
/** Admin ports (/metrics, detailed readiness) of the first instances, as the services' own defaults. */
export const DEFAULT_ADMIN_PORTS: Readonly<Record<ServiceName, number>> = {
  catalog: 9101,
  user: 9102,
  order: 9103,
};
export const DEFAULT_EXCHANGE = 'memshop.invalidation';
export const DEFAULT_DATABASES: Readonly<Record<ServiceName, string>> = {
  catalog: 'memshop_catalog',
  user: 'memshop_user',
  order: 'memshop_order',
};

export interface StartStackOptions {
  /** Which services to start (and migrate and seed). Default all three. */
  services?: ServiceName[];
  /** Port of each service's first instance; 0 = a free port from the OS. Default 3001, 3002, 3003. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Instances per service (extra instances get free ports). Default 1 each. */
  instances?: Partial<Record<ServiceName, number>>;
  /**
   * 'fixed' (default): memshop_catalog, memshop_user, memshop_order, created when missing and kept.
   * 'fresh': new uniquely named databases, dropped by stop() (and on a crash of this process).
   */
  databases?: 'fixed' | 'fresh';
  /** Default env PG_ADMIN_URL or postgresql://postgres@127.0.0.1:5432/postgres. */
  pgAdminUrl?: string;
  /** Use these memcached servers instead of starting `count` nodes (default 3). */
  memcached?: { count?: number; servers?: string[]; memoryMb?: number };
  /** Default env RABBITMQ_URL or amqp://guest:guest@127.0.0.1:5672. */
  rabbitmqUrl?: string;
  /**
   * 'shared' (default): exchange memshop.invalidation and each service's default queue.
   * 'isolated': a unique exchange and unique queues (deleted by stop()), so the stack can run
   * beside another one on the same broker.
   */
  rabbit?: 'shared' | 'isolated';
  /** Run the seeds. Default true. */
  seed?: boolean;
  /** LOG_LEVEL of the services. Default 'info'. */
  logLevel?: string;
  /** Where the services' output goes (`<service>-<n>.log`); null discards it. Default tmp/stack. */
  logDir?: string | null;
  /** Extra env for every service. */
  env?: Record<string, string>;
  /** Per service instance. Default 60 s (a cold tsx start on a busy 2-core box takes several). */
  readyTimeoutMs?: number;
  /**
   * How the services run. 'tsx' (default): `node --import tsx` on the source, no build step.
   * 'bundle': the esbuild bundle the Dockerfile ships (`node --enable-source-maps main.js`),
   * built into tmp/bundles/<service>/ and rebuilt only when a source changed. tsx's loader
   * costs a service about 25 MB of memory and some start time.
   */
  runtime?: 'tsx' | 'bundle';
  /**
   * node command-line flags for every service process, e.g. ['--max-semi-space-size=1']. V8
   * flags that NODE_OPTIONS does not accept (--liftoff-only) work here. Default none.
   */
  nodeArgs?: string[];
  /**
   * The token keys the services trust. Default: a fresh development pair for the user token
   * issuer and one for order-service, in a private temporary folder removed by stop().
   */
  auth?: AuthKeys;
  /** Progress lines ("migrating catalog", ...). Default: silent. */
  onProgress?: (message: string) => void;
}

/** With `services`, the records below only have entries for the services started. */
export interface Stack {
  /** First instance of each service. */
  urls: Record<ServiceName, string>;
  /** Admin port (/metrics, detailed /health/ready) of each service's first instance. */
  adminUrls: Record<ServiceName, string>;
  processes: Record<ServiceName, ServiceProcess[]>;
  memcachedServers: string[];
  databases: Record<ServiceName, { name: string; url: string }>;
  rabbit: { url: string; exchange: string; queues: Record<ServiceName, string> };
  /** The keys the services trust, and tokens made with them (userToken, adminToken, serviceToken). */
  auth: AuthKeys;
  /** Stops the services (SIGTERM by pid), then memcached nodes it started, then drops fresh databases and isolated RabbitMQ objects. Idempotent. */
  stop(): Promise<void>;
}

export async function startStack(opts: StartStackOptions = {}): Promise<Stack> {
  const progress = opts.onProgress ?? (() => undefined);
  const pgAdminUrl = opts.pgAdminUrl ?? process.env['PG_ADMIN_URL'] ?? DEFAULT_PG_ADMIN_URL;
  const rabbitmqUrl = opts.rabbitmqUrl ?? process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
  const logDir = opts.logDir === undefined ? path.join(WORKSPACE_ROOT, 'tmp', 'stack') : opts.logDir;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const services = SERVICES.filter((s) => !opts.services || opts.services.includes(s));

  const cleanups: Array<() => Promise<void>> = [];
  const processes: Record<ServiceName, ServiceProcess[]> = { catalog: [], user: [], order: [] };
  const killChildrenOnExit = () => services.forEach((s) => processes[s].forEach((p) => p.killNow()));
  realProcess.on('exit', killChildrenOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (err) {
          errors.push(err);
        }
      }
      realProcess.removeListener('exit', killChildrenOnExit);
      if (errors.length > 0) throw new AggregateError(errors, 'stopping the stack failed partly');
    })();
    return stopping;
  };

  try {
    const ports = await choosePorts(opts, services);

    let auth = opts.auth;
    if (!auth) {
      const created = await createAuthKeys();
      cleanups.push(() => created.remove());
      auth = created;
    }

    let cluster: MemcachedCluster | undefined;
    let memcachedServers = opts.memcached?.servers;
    if (!memcachedServers) {
      const count = opts.memcached?.count ?? 3;
      progress(`starting ${count} memcached nodes`);
      cluster = await startMemcachedCluster(count, { memoryMb: opts.memcached?.memoryMb ?? 64 });
      const started = cluster;
      cleanups.push(() => started.stop());
      memcachedServers = cluster.servers;
    }

    const databases = {} as Record<ServiceName, { name: string; url: string }>;
    if (opts.databases === 'fresh') {
      for (const service of services) {
        const db: TestDatabase = await createTestDatabase(`stack_${service}`);
        cleanups.push(() => db.drop());
        databases[service] = { name: db.name, url: db.url };
      }
    } else {
      for (const service of services) {
        databases[service] = {
          name: DEFAULT_DATABASES[service],
          url: databaseUrl(pgAdminUrl, DEFAULT_DATABASES[service]),
        };
      }
    }

    const generated = await Promise.all(services.map((s) => ensurePrismaClient(s)));
    if (generated.some(Boolean))
      progress(`generated Prisma clients for ${services.filter((_, i) => generated[i]).join(', ')}`);
    for (const service of services) {
      const { created, applied } = await migrateDatabase(service, databases[service].url);
      progress(
        `database ${databases[service].name}: ${created ? 'created, ' : ''}${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`,
      );
    }
    if (opts.seed ?? true) {
      const outputs = await Promise.all(services.map((s) => seedDatabase(s, databases[s].url)));
      outputs.forEach((line) => progress(line.split('\n').pop() ?? ''));
    }

    const isolated = opts.rabbit === 'isolated';
    const exchange = isolated
      ? uniqueName('exchange')
      : (process.env['INVALIDATION_EXCHANGE'] ?? DEFAULT_EXCHANGE);
    const queues = {} as Record<ServiceName, string>;
    for (const service of services)
      queues[service] = isolated
        ? uniqueName(`${service}-queue`)
        : defaultInvalidationQueue(service, BROKER_NAME_PREFIX);
    if (isolated) {
      cleanups.push(() =>
        deleteRabbitObjects(withDeadLetterObjects({ queues: Object.values(queues), exchanges: [exchange] })),
      );
    }

    const urls = Object.fromEntries(
      services.map((s) => [s, `http://127.0.0.1:${ports[s][0]!.port}`]),
    ) as Record<ServiceName, string>;
    const adminUrls = Object.fromEntries(
      services.map((s) => [s, `http://127.0.0.1:${ports[s][0]!.adminPort}`]),
    ) as Record<ServiceName, string>;
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: opts.logLevel ?? 'info',
      MEMCACHED_SERVERS: memcachedServers.join(','),
      RABBITMQ_URL: rabbitmqUrl,
      INVALIDATION_EXCHANGE: exchange,
      CATALOG_URL: urls.catalog,
      USER_URL: urls.user,
      ...opts.env,
    };
    const bundles: Partial<Record<ServiceName, string>> = {};
    if (opts.runtime === 'bundle') {
      const built = await Promise.all(services.map((s) => bundleService(s)));
      services.forEach((s, i) => (bundles[s] = built[i]));
      progress(`bundled ${services.join(', ')} into ${path.relative(WORKSPACE_ROOT, BUNDLE_DIR)}`);
    }
    cleanups.push(async () => {
      await Promise.all(services.flatMap((s) => processes[s].map((p) => p.stop())));
    });
    for (const service of services) {
      ports[service].forEach(({ port, adminPort }, instance) => {
        processes[service].push(
          new ServiceProcess({
            service,
            instance,
            port,
            adminPort,
            env: {
              ...baseEnv,
              ...auth.envFor(service),
              DATABASE_URL: databases[service].url,
              INVALIDATION_QUEUE: queues[service],
              SERVICE_INSTANCE_ID: `${service}-${instance + 1}`,
            },
            logFile: logDir ? path.join(logDir, `${service}-${instance + 1}.log`) : null,
            bundle: bundles[service],
            nodeArgs: opts.nodeArgs,
          }),
        );
      });
    }
    progress(`starting ${services.map((s) => `${processes[s].length} ${s}`).join(', ')}`);
    await Promise.all(services.flatMap((s) => processes[s].map((p) => waitUntilReady(p, readyTimeoutMs))));

    return {
      urls,
      adminUrls,
      processes,
      memcachedServers,
      databases,
      rabbit: { url: rabbitmqUrl, exchange, queues },
      auth,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

interface InstancePorts {
  port: number;
  adminPort: number;
}

/**
 * The first instance takes the requested port (default 3001..3003) and, when that is the
 * default, the default admin port (9101..9103); everything else gets a free port.
 */
async function choosePorts(
  opts: StartStackOptions,
  services: ServiceName[],
): Promise<Record<ServiceName, InstancePorts[]>> {
  const ports: Record<ServiceName, InstancePorts[]> = { catalog: [], user: [], order: [] };
  const taken = new Set<number>();
  const pick = async (wanted: number, service: ServiceName): Promise<number> => {
    let port = wanted;
    if (port !== 0 && (await portInUse(port))) {
      throw new Error(
        `port ${port} (${service}) is already in use: is a stack already running? (npm run demo uses it; stop it with Ctrl-C)`,
      );
    }
    while (port === 0 || taken.has(port)) port = await findFreePort();
    taken.add(port);
    return port;
  };
  for (const service of services) {
    const count = Math.max(1, opts.instances?.[service] ?? 1);
    const first = opts.ports?.[service] ?? DEFAULT_PORTS[service];
    const firstAdmin = first === DEFAULT_PORTS[service] ? DEFAULT_ADMIN_PORTS[service] : 0;
    const list: InstancePorts[] = [];
    for (let i = 0; i < count; i += 1) {
      list.push({
        port: await pick(i === 0 ? first : 0, service),
        adminPort: await pick(i === 0 ? firstAdmin : 0, service),
      });
    }
    ports[service] = list;
  }
  return ports;
}

/**
 * Where `npm run stack` says which key folder its services trust, so `npm run token` signs with
 * those keys. Only the folder's path is written here; the keys stay in the private temp folder.
 */
export const STACK_AUTH_POINTER = path.join(WORKSPACE_ROOT, 'tmp', 'stack', 'auth.json');

/** The key folder of the `npm run stack` that is running (what `npm run token` and the demo sign with). */
export function runningStackAuthDir(): string {
  try {
    return (JSON.parse(readFileSync(STACK_AUTH_POINTER, 'utf8')) as { dir: string }).dir;
  } catch {
    throw new Error(
      'no running stack found: start one with `npm run stack` (it makes the keys tokens are signed with)',
    );
  }
}

function printSummary(stack: Stack, startedMs: number): void {
  const lines = [
    '',
    `memshop stack is up (${(startedMs / 1000).toFixed(1)} s)`,
    ...SERVICES.map(
      (s) =>
        `  ${s.padEnd(8)} ${stack.processes[s].map((p) => `${p.url} (admin ${p.adminUrl}, pid ${p.pid})`).join(', ')}   db ${stack.databases[s].name}`,
    ),
    `  memcached ${stack.memcachedServers.join(', ')}`,
    `  rabbitmq  exchange ${stack.rabbit.exchange}`,
    `  logs      ${path.relative(process.cwd(), path.join(WORKSPACE_ROOT, 'tmp', 'stack'))}/<service>-<n>.log`,
    '',
    'try:  curl -i http://127.0.0.1:3001/products/1     (twice: X-Cache miss, then hit)',
    '      curl -i -H "Authorization: Bearer $(npm run --silent token -- --user 1)" http://127.0.0.1:3003/users/1/orders',
    '      npm run demo                                  (uses this stack)',
    'Ctrl-C stops everything.',
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const started = Date.now();
  let shuttingDown = false;
  const starting = startStack({ onProgress: (m) => console.log(`stack: ${m}`) });
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`\n${signal}: stopping the stack`);
    // During startup, let startStack finish (or fail and clean up) before stopping it.
    starting
      .then((stack) => stack.stop())
      .then(
        () => {
          console.log('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          console.error('stopping failed:', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // SIGTERM sent to `npm run stack` ends npm and its shell but is not forwarded to us.
  watchParent(() => shutdown('parent process gone'));

  const stack = await starting;
  if (shuttingDown) return;
  writeFileSync(STACK_AUTH_POINTER, `${JSON.stringify({ dir: stack.auth.dir, pid: process.pid })}\n`);
  process.on('exit', () => rmSync(STACK_AUTH_POINTER, { force: true }));
  printSummary(stack, Date.now() - started);
  for (const service of SERVICES) {
    for (const proc of stack.processes[service]) {
      void proc.exited().then((code) => {
        if (!shuttingDown)
          console.error(`${proc.name} exited unexpectedly (code ${code}); see ${proc.logFile}`);
      });
    }
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('stack failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
