import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Ports are chosen below the kernel's ephemeral range (Linux: 32768-60999), where the kernel
 * never puts an outgoing connection's local port nor a `listen(0)`: a port handed out there
 * cannot be taken by one of the thousands of client connections the suites open, which a port
 * from `listen(0)` can. The lowest port stays clear of the machine's own servers (Postgres,
 * RabbitMQ, ... all below it).
 */
const LOWEST_PORT = 20_000;
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
/** One file per port handed out, so two processes (two suites side by side) never get the same one. */
const CLAIMS_DIR = path.join(os.tmpdir(), 'memshop-port-claims');
const ATTEMPTS = 200;
const UNWRITTEN_CLAIM_MS = 10_000;

const claimed = new Set<string>();
let exitHookInstalled = false;

/**
 * A free port for a server this process is about to start: free now (a bind succeeds) and
 * claimed for this process on this machine until it exits, so a suite running beside this one
 * does not hand out the same port in the moment before the server binds it. Outside Linux, or
 * when the ephemeral range leaves no room below it, the kernel picks (bind 0, release); callers
 * that can, retry on EADDRINUSE.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const highest = highestPortBelowEphemeralRange();
  if (highest === null) return kernelPort(host);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
    if (!claim(port)) continue;
    if (await canBind(host, port)) return port;
    release(port);
  }
  return kernelPort(host);
}

function highestPortBelowEphemeralRange(): number | null {
  let lowestEphemeral: number;
  try {
    lowestEphemeral = Number(fs.readFileSync(EPHEMERAL_RANGE_FILE, 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
  const highest = lowestEphemeral - 1;
  return Number.isInteger(highest) && highest - LOWEST_PORT >= 1000 ? highest : null;
}

/** Creates the port's claim file; false when a live process holds it. A dead holder's claim is taken over. */
function claim(port: number): boolean {
  fs.mkdirSync(CLAIMS_DIR, { recursive: true });
  const file = path.join(CLAIMS_DIR, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      claimed.add(file);
      installExitHook();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (holderAlive(file)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

function release(port: number): void {
  const file = path.join(CLAIMS_DIR, String(port));
  claimed.delete(file);
  fs.rmSync(file, { force: true });
}

function holderAlive(file: string): boolean {
  let pid: number;
  let modifiedAt: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8'));
    modifiedAt = fs.statSync(file).mtimeMs;
  } catch {
    return false;
  }
  // Created but not yet written (its holder is between open and write), or a holder that died
  // right there: the second only once it is old.
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - modifiedAt < UNWRITTEN_CLAIM_MS;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Once per process: removes this process's claims at exit, and the claims of processes that died
 * without removing theirs (killed by a signal), so the folder holds about the ports in use.
 * Under Jest a test file's `process` never emits 'exit'; a worker's claims go with that sweep,
 * or are taken over, once the worker is gone.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const file of claimed) fs.rmSync(file, { force: true });
  });
  for (const name of fs.readdirSync(CLAIMS_DIR)) {
    const file = path.join(CLAIMS_DIR, name);
    if (!claimed.has(file) && !holderAlive(file)) fs.rmSync(file, { force: true });
  }
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the kernel assigned'));
      });
    });
  });
}
