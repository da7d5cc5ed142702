import { spawn } from 'node:child_process';
import path from 'node:path';
import { MigrateError } from './errors';

export interface GenerateOptions {
  schemaPath: string;
  /** A prisma.config.ts to pass as `--config`; by default Prisma looks in `cwd`. */
  configPath?: string;
  cwd?: string;
  /** Where Prisma's output goes; inherits the parent's stdio by default. */
  stdio?: 'inherit' | 'pipe';
  /** Environment for the Prisma CLI; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Only has to satisfy `env('DATABASE_URL')` in a prisma.config.ts, which throws when the variable
 * is unset even though generate never connects.
 */
const PLACEHOLDER_DATABASE_URL = 'postgresql://generate:unused@127.0.0.1:5432/unused';

/**
 * `prisma generate` that works offline. The CLI insists on a native schema engine before any
 * command and cannot download one here; generate only checks that the file named by
 * PRISMA_SCHEMA_ENGINE_BINARY exists and never runs it, so it is pointed at /bin/false. Never
 * /bin/true: Prisma's migrate commands would then "succeed" without doing anything.
 */
export async function generatePrismaClient(options: GenerateOptions): Promise<{ output: string }> {
  const cli = require.resolve('prisma/build/index.js');
  const args = [cli, 'generate', '--schema', path.resolve(options.schemaPath)];
  if (options.configPath) args.push('--config', path.resolve(options.configPath));
  const env = options.env ?? process.env;
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? process.cwd(),
    stdio: options.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: {
      ...env,
      PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false',
      DATABASE_URL: env['DATABASE_URL'] || PLACEHOLDER_DATABASE_URL,
      // No update check or telemetry: both would wait on hosts this machine cannot reach.
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    throw new MigrateError(`prisma generate failed (exit code ${exitCode})${output ? `:\n${output}` : ''}`);
  }
  return { output };
}
