import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ChildMessage, LoadJob, LoadResult } from './load-protocol';

/** Parent side of the load-generator process (see load-generator.ts). */
export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: ChildMessage) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.result) pending.resolve(message.result);
      else pending.reject(new Error(`load generator: ${message.error}`));
    });
    child.on('exit', (code, signal) => {
      for (const p of this.#pending.values())
        p.reject(new Error(`load generator exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  static start(): LoadGenerator {
    const child = fork(path.join(__dirname, 'load-generator.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadGenerator(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, job });
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
