import { spawnSync } from 'node:child_process';
import vm from 'node:vm';

/**
 * Safety net for a test file that crashes or forgets its afterAll: whatever the harness
 * started is removed when the process ends. Tests still clean up themselves; this only
 * catches what they leave behind.
 */
interface Registry {
  /** Pids of memcached processes this process started and that are still running. */
  pids: Set<number>;
  /** Databases not yet dropped, keyed by name. */
  databases: Map<string, { adminUrl: string }>;
  /** Async cleanups (stop a node, drop a database) run on SIGINT/SIGTERM. */
  asyncCleanups: Set<() => Promise<void>>;
}

// Jest gives every test file its own copy of `process` whose 'exit' and signal events never
// fire, and its own module registry. The real process object is shared by all of them, so the
// registry and the one set of handlers live there.
const realProcess = vm.runInThisContext('process') as NodeJS.Process;
const registryKey = Symbol.for('memshop.testing.cleanupRegistry');

type ProcessWithRegistry = NodeJS.Process & { [registryKey]?: Registry };

export function cleanupRegistry(): Registry {
  const proc = realProcess as ProcessWithRegistry;
  const existing = proc[registryKey];
  if (existing) return existing;
  const registry: Registry = { pids: new Set(), databases: new Map(), asyncCleanups: new Set() };
  proc[registryKey] = registry;
  installHandlers(registry);
  return registry;
}

function installHandlers(registry: Registry): void {
  realProcess.on('exit', () => runSyncCleanup(registry));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      realProcess.removeListener(signal, onSignal);
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      const cleanups = [...registry.asyncCleanups].map((cleanup) => cleanup().catch(() => undefined));
      void Promise.race([Promise.all(cleanups), timeout]).finally(() => {
        runSyncCleanup(registry);
        // Listening to a signal cancels Node's default exit; re-raise it unless someone else
        // (e.g. Jest's watch mode) also handles it.
        if (realProcess.listenerCount(signal) === 0) realProcess.kill(realProcess.pid, signal);
      });
    };
    realProcess.on(signal, onSignal);
  }
}

/** Runs in 'exit', where only synchronous work happens. */
function runSyncCleanup(registry: Registry): void {
  for (const pid of registry.pids) {
    try {
      realProcess.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  registry.pids.clear();
  if (registry.databases.size > 0) {
    const databases = [...registry.databases].map(([name, { adminUrl }]) => ({ name, adminUrl }));
    registry.databases.clear();
    // pg is async only, so a child Node process does the drops while this one blocks on it.
    spawnSync(
      realProcess.execPath,
      ['-e', DROP_DATABASES_SCRIPT, require.resolve('pg'), JSON.stringify(databases)],
      {
        stdio: 'ignore',
        timeout: 15_000,
      },
    );
  }
}

const DROP_DATABASES_SCRIPT = `
const { Client } = require(process.argv[1]);
(async () => {
  for (const { name, adminUrl } of JSON.parse(process.argv[2])) {
    const client = new Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.query('DROP DATABASE IF EXISTS "' + name.replace(/"/g, '""') + '" WITH (FORCE)');
    } catch {}
    await client.end().catch(() => {});
  }
})();
`;
