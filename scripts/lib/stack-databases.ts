import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deployMigrations, generatePrismaClient } from '../../libs/migrate/src';
import { WORKSPACE_ROOT } from './service-process';

export const DEFAULT_PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** `postgresql://.../postgres` with another database name. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function appPath(service: string, ...parts: string[]): string {
  return path.join(WORKSPACE_ROOT, 'apps', service, ...parts);
}

/** `prisma generate` for a service whose client is missing (a fresh clone that skipped `npm run setup`). */
export async function ensurePrismaClient(service: string): Promise<boolean> {
  if (fs.existsSync(appPath(service, 'src', 'prisma', 'generated', 'client.ts'))) return false;
  await generatePrismaClient({
    schemaPath: appPath(service, 'src', 'prisma', 'schema.prisma'),
    configPath: appPath(service, 'prisma.config.ts'),
    cwd: WORKSPACE_ROOT,
    stdio: 'pipe',
  });
  return true;
}

/** Applies the service's migrations (creating the database when missing). Returns what was applied. */
export async function migrateDatabase(
  service: string,
  url: string,
): Promise<{ created: boolean; applied: string[] }> {
  const result = await deployMigrations({
    schemaPath: appPath(service, 'src', 'prisma', 'schema.prisma'),
    databaseUrl: url,
  });
  return { created: result.createdDatabase, applied: result.appliedMigrationNames };
}

/** Runs `apps/<service>/src/prisma/seed.ts` (idempotent by contract) and returns its output. */
export function seedDatabase(service: string, url: string): Promise<string> {
  const seed = appPath(service, 'src', 'prisma', 'seed.ts');
  if (!fs.existsSync(seed)) return Promise.resolve(`${service}: no seed`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', seed], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, DATABASE_URL: url, TSX_TSCONFIG_PATH: appPath(service, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(output.trim())
        : reject(new Error(`seed of ${service} failed (exit ${code}):\n${output}`)),
    );
  });
}
