import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { cleanupRegistry } from './cleanup';
import { findFreePort } from './free-port';
import { createTestCertificates, type TestCertificates } from './test-certificates';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';
const INSTALL_HINT = 'Install it with: sudo apt-get install -y memcached';

export interface MemcachedClusterOptions {
  /** Cache size per node (-m). Default 32 MB: tests store little, and 2-core CI boxes are small. */
  memoryMb?: number;
  /** Appended to the memcached command line, e.g. ['-I', '2m']. */
  extraArgs?: string[];
  /**
   * Start every node with TLS only (`memcached -Z`), with a CA and server certificate made for
   * this cluster (valid for 127.0.0.1 and localhost). Default: plain TCP.
   */
  tls?: {
    /** `ssl_verify_mode=2`: a client without a certificate signed by the CA is refused. Default false. */
    requireClientCertificate?: boolean;
  };
}

/** What a client needs to reach a TLS cluster: its CA, and the client certificate it accepts. */
export interface MemcachedTls {
  ca: string;
  cert: string;
  key: string;
  certificates: TestCertificates;
}

export interface MemcachedNode {
  /** '127.0.0.1:<port>', the exact string to hand to the cache client. */
  readonly server: string;
  readonly port: number;
  /** Pid of the running process; undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM by pid; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL by pid: a crash, no graceful shutdown. */
  kill(): Promise<void>;
  /** (Re)starts on the same port; resolves once it answers `version`. */
  start(): Promise<void>;
  /** SIGSTOP: a hung node. Connections stay open, requests get no answer. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

export interface MemcachedCluster {
  servers: string[];
  nodes: MemcachedNode[];
  /** Set when the cluster was started with `tls`. */
  tls?: MemcachedTls;
  stop(): Promise<void>;
}

let memcachedPath: Promise<string> | undefined;

/** Path to the memcached binary; installs it with apt-get when missing and running as root. */
export function ensureMemcached(): Promise<string> {
  memcachedPath ??= locateOrInstall().catch((err: unknown) => {
    memcachedPath = undefined;
    throw err;
  });
  return memcachedPath;
}

function findOnPath(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, 'memcached');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

async function locateOrInstall(): Promise<string> {
  const found = findOnPath();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`memcached was not found on PATH and the tests need it. ${INSTALL_HINT}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await execFileAsync('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await execFileAsync('apt-get', ['install', '-y', 'memcached'], { env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`installing memcached with apt-get failed (${(err as Error).message}). ${INSTALL_HINT}`, {
      cause: err,
    });
  }
  const installed = findOnPath();
  if (!installed) throw new Error(`apt-get installed memcached but it is not on PATH. ${INSTALL_HINT}`);
  return installed;
}

/** Resolves true when a connection (TLS with `client`) gets a `VERSION` answer. */
function answersVersion(port: number, client: MemcachedTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = client
      ? tls.connect({ host: HOST, port, ca: client.ca, cert: client.cert, key: client.key })
      : net.connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(client ? 'secureConnect' : 'connect', () => socket.write('version\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('VERSION '));
    });
  });
}

class PortInUseError extends Error {}

class LocalMemcachedNode implements MemcachedNode {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;

  constructor(
    readonly binary: string,
    readonly port: number,
    readonly args: string[],
    readonly client: MemcachedTls | undefined,
  ) {}

  get server(): string {
    return `${HOST}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    // On restart the old port may have been taken by someone else in the meantime; memcached
    // sets SO_REUSEADDR, so TIME_WAIT alone never blocks it. A few tries cover a slow exit.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.spawnOnce();
        return;
      } catch (err) {
        if (!(err instanceof PortInUseError) || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** One attempt on the current port; throws PortInUseError when the port is taken. */
  async spawnOnce(): Promise<void> {
    const runAsRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    const child = spawn(
      this.binary,
      ['-l', HOST, '-p', String(this.port), '-U', '0', ...runAsRoot, ...this.args],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    let exitCode: number | null | undefined;
    const registry = cleanupRegistry();
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = code ?? (signal ? -1 : null);
        if (child.pid !== undefined) registry.pids.delete(child.pid);
        if (this.#child === child) {
          this.#child = undefined;
          this.#paused = false;
        }
        resolve();
      });
    });
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    await Promise.race([new Promise<void>((resolve) => child.once('spawn', resolve)), spawnError]);
    registry.pids.add(child.pid!);
    this.#child = child;
    this.#exited = exited;
    // A test that forgets stop() must not keep Jest alive; the exit handler kills the process.
    child.unref();
    (child.stderr as net.Socket | null)?.unref();

    try {
      const deadline = Date.now() + 10_000;
      while (!(await answersVersion(this.port, this.client))) {
        if (exitCode !== undefined) {
          if (/in use/i.test(stderr)) throw new PortInUseError(stderr.trim());
          throw new Error(`memcached on port ${this.port} exited with code ${exitCode}: ${stderr.trim()}`);
        }
        if (Date.now() > deadline)
          throw new Error(`memcached on port ${this.port} did not answer "version" in 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } catch (err) {
      if (this.#child === child) await this.kill();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.#signalAndWait('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.#signalAndWait('SIGKILL');
  }

  async #signalAndWait(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    const exited = this.#exited;
    process.kill(child.pid, signal);
    // A stopped process only acts on SIGTERM once it is continued.
    if (this.#paused) process.kill(child.pid, 'SIGCONT');
    const escalate = setTimeout(() => {
      if (this.#child === child && child.pid) process.kill(child.pid, 'SIGKILL');
    }, 5_000);
    await exited;
    clearTimeout(escalate);
  }

  pause(): void {
    const pid = this.#requirePid('pause');
    process.kill(pid, 'SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    const pid = this.#requirePid('resume');
    process.kill(pid, 'SIGCONT');
    this.#paused = false;
  }

  #requirePid(action: string): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`cannot ${action} memcached ${this.server}: it is not running`);
    return pid;
  }
}

/** Starts `count` memcached processes on free loopback ports; stop() them in afterAll. */
export async function startMemcachedCluster(
  count: number,
  opts: MemcachedClusterOptions = {},
): Promise<MemcachedCluster> {
  const binary = await ensureMemcached();
  const certificates = opts.tls ? await createTestCertificates() : undefined;
  const client: MemcachedTls | undefined = certificates && {
    ca: certificates.ca,
    cert: certificates.clientCert,
    key: certificates.clientKey,
    certificates,
  };
  // One worker thread per node: the suite runs several nodes on 2 cores.
  const args = [
    '-m',
    String(opts.memoryMb ?? 32),
    '-t',
    '1',
    ...(certificates ? tlsArgs(certificates, opts.tls?.requireClientCertificate ?? false) : []),
    ...(opts.extraArgs ?? []),
  ];
  const nodes: LocalMemcachedNode[] = [];
  // Teardown uses SIGKILL: memcached takes about a second to act on SIGTERM, and the data is
  // thrown away either way.
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.kill()));
    await certificates?.remove();
  };
  const registry = cleanupRegistry();
  registry.asyncCleanups.add(stop);
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(await startOnFreePort(binary, args, client));
    }
  } catch (err) {
    await stop();
    registry.asyncCleanups.delete(stop);
    throw err;
  }
  return {
    servers: nodes.map((node) => node.server),
    nodes,
    ...(client ? { tls: client } : {}),
    stop: async () => {
      await stop();
      registry.asyncCleanups.delete(stop);
    },
  };
}

/** memcached 1.6's TLS flags: every listener TLS-only, verifying clients against the CA when asked. */
function tlsArgs(certificates: TestCertificates, requireClientCertificate: boolean): string[] {
  const settings = [
    `ssl_chain_cert=${certificates.serverCertFile}`,
    `ssl_key=${certificates.serverKeyFile}`,
    `ssl_ca_cert=${certificates.caFile}`,
    `ssl_verify_mode=${requireClientCertificate ? 2 : 0}`,
  ];
  return ['-Z', '-o', settings.join(',')];
}

async function startOnFreePort(
  binary: string,
  args: string[],
  client: MemcachedTls | undefined,
): Promise<LocalMemcachedNode> {
  for (let attempt = 1; ; attempt++) {
    const node = new LocalMemcachedNode(binary, await findFreePort(HOST), args, client);
    try {
      await node.spawnOnce();
      return node;
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= 5) throw err;
    }
  }
}
