import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findFreePort } from '../../libs/testing/src/free-port';
import { SERVICE_NODE_ARGS } from './settings';

const READY_TIMEOUT_MS = 30_000;

export type BaselineMode = 'express' | 'node-http';

/** A running baseline-server.ts process. */
export interface BaselineProcess {
  mode: BaselineMode;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts baseline-server.ts in `mode` as a process of its own, with the services' node flags,
 * and resolves once it listens. `env` carries the mode's inputs (BASELINE_SOURCE_URL for
 * express; BASELINE_MEMCACHED and BASELINE_KEY for node-http).
 */
export async function startBaseline(
  mode: BaselineMode,
  env: Record<string, string>,
): Promise<BaselineProcess> {
  const port = await findFreePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', ...SERVICE_NODE_ARGS, path.join(__dirname, 'baseline-server.ts')],
    {
      env: { ...process.env, ...env, BASELINE_MODE: mode, BASELINE_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`baseline ${mode}: not listening after 30 s`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`baseline ${mode} exited with ${String(code)}: ${stderr.slice(0, 500)}`));
    });
  });
  return {
    mode,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
