import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The workspace root (scripts/lib/ is two levels below it). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..');

export interface ServiceProcessOptions {
  /** 'catalog', 'user', 'order' */
  service: string;
  /** 0-based instance number, for names and log files. */
  instance: number;
  port: number;
  /** Where /metrics and the detailed readiness are served (ADMIN_PORT). */
  adminPort: number;
  /** Full child environment (PORT and ADMIN_PORT are set from `port` and `adminPort`). */
  env: NodeJS.ProcessEnv;
  /** Child stdout/stderr go to this file; null: discarded. */
  logFile: string | null;
  /**
   * A bundle of the service (service-bundle.ts) to run instead of `--import tsx` on its source,
   * with `--enable-source-maps` as the Dockerfile's CMD. Default: none (tsx).
   */
  bundle?: string;
  /** node command-line flags before the script (V8 flags such as --liftoff-only only work here). */
  nodeArgs?: string[];
}

/**
 * One service instance as a child process: `node --import tsx apps/<service>/src/main.ts`, or
 * `node --enable-source-maps <bundle>` (node itself, not the tsx CLI, so the pid we hold is the
 * service's own and a SIGTERM reaches its graceful shutdown directly). tsx resolves the
 * `@memshop/*` aliases from the app's tsconfig.
 */
export class ServiceProcess {
  readonly service: string;
  readonly instance: number;
  readonly port: number;
  readonly adminPort: number;
  readonly url: string;
  /** The admin port's base URL: /metrics and the detailed /health/ready. */
  readonly adminUrl: string;
  readonly logFile: string | null;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(opts: ServiceProcessOptions) {
    this.service = opts.service;
    this.instance = opts.instance;
    this.port = opts.port;
    this.adminPort = opts.adminPort;
    this.url = `http://127.0.0.1:${opts.port}`;
    this.adminUrl = `http://127.0.0.1:${opts.adminPort}`;
    this.logFile = opts.logFile;
    const appRoot = path.join(WORKSPACE_ROOT, 'apps', opts.service);
    let out: number | 'ignore' = 'ignore';
    if (opts.logFile) {
      fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
      out = fs.openSync(opts.logFile, 'w');
    }
    // The caller's flags come after the defaults, so they can override them (--no-enable-source-maps).
    const args = opts.bundle
      ? ['--enable-source-maps', ...(opts.nodeArgs ?? []), opts.bundle]
      : ['--import', 'tsx', ...(opts.nodeArgs ?? []), path.join(appRoot, 'src', 'main.ts')];
    this.#child = spawn(process.execPath, args, {
      cwd: WORKSPACE_ROOT,
      env: {
        ...opts.env,
        PORT: String(opts.port),
        ADMIN_PORT: String(opts.adminPort),
        TSX_TSCONFIG_PATH: path.join(appRoot, 'tsconfig.json'),
      },
      stdio: ['ignore', out, out],
    });
    if (typeof out === 'number') fs.closeSync(out);
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? 128 : null);
        resolve(this.#exitCode);
      });
      this.#child.once('error', () => {
        this.#exitCode = -1;
        resolve(-1);
      });
    });
  }

  get name(): string {
    return `${this.service}#${this.instance + 1}`;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Resolves with the exit code when the process ends (on its own or stopped). */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM (graceful: drain, close clients), SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.#child.pid;
    if (!this.running || pid === undefined) return;
    signal(pid, 'SIGTERM');
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort for process 'exit': the children must not outlive the stack. */
  killNow(): void {
    const pid = this.#child.pid;
    if (this.running && pid !== undefined) signal(pid, 'SIGKILL');
  }

  /** The last lines of the log file, to explain a process that did not come up. */
  logTail(lines = 30): string {
    if (!this.logFile) return '(output discarded)';
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log file)';
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Whether something already listens on the loopback port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ReadyReport {
  status: string;
  checks: Record<string, { status: string }>;
}

/**
 * Polls the admin port's GET /health/ready until every check is up (not only the critical database: the demo
 * and the e2e test need the invalidation consumer bound and memcached reachable), failing fast
 * when the process exits.
 */
export async function waitUntilReady(proc: ServiceProcess, timeoutMs: number): Promise<ReadyReport> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (!proc.running) {
      throw new Error(
        `${proc.name} exited (code ${await proc.exited()}) before it was ready; its log:\n${proc.logTail()}`,
      );
    }
    try {
      const response = await fetch(`${proc.adminUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
      const body = (await response.json()) as ReadyReport;
      const down = Object.entries(body.checks ?? {}).filter(([, check]) => check.status !== 'up');
      if (response.status === 200 && down.length === 0) return body;
      last = `${response.status} ${down.map(([name, c]) => `${name}=${c.status}`).join(' ')}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${timeoutMs} ms (${last}); its log:\n${proc.logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
