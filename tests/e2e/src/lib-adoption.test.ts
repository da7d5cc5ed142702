// A team adopting libs/cache follows its README in a service of their own. This test is that
// team: in an empty directory it creates a service (`npm init`, a runtime `pg`, its own
// TypeScript), then runs the README's install, copy and tsconfig steps exactly as written (they
// are read from the README, so a README that drifts fails here), compiles the README's first
// service with `tsc` as a CommonJS and as an ESM package, runs it against a real memcached and
// Postgres (a miss, then a hit), checks that the service's own dependencies were left alone, and
// runs the lib's unit tests with the Jest config the README shows.
// Installs come from npm's cache when they can (`--prefer-offline`), so a warm CI box does not
// need the registry; the run costs about a minute on 2 cores, most of it npm and tsc.
import { execFileSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import ts from 'typescript';
import {
  createTestDatabase,
  startMemcachedCluster,
  type MemcachedCluster,
  type TestDatabase,
} from '@memshop/testing';

jest.setTimeout(300_000);

const workspace = resolve(__dirname, '../../..');
const readme = readFileSync(join(workspace, 'libs/cache/README.md'), 'utf8');

/** The body of the README's fenced block whose info string is exactly `info` (e.g. 'sh install'). */
function readmeBlock(info: string): string {
  const found = [...readme.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1]?.trim() === info);
  if (found.length !== 1)
    throw new Error(`the README has ${found.length} blocks marked \`\`\`${info}, wants 1`);
  return found[0]?.[2] ?? '';
}

/** What a person types: the README's shell lines, comments and all, run by bash. */
function runShell(cwd: string, script: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 240_000,
  });
}

/**
 * The environment of someone at a terminal: no npm_* variables of the npm that may be running
 * this suite (they would point npm at the workspace), MEMSHOP naming the checkout the README
 * copies from, and installs from npm's cache first.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  }
  return {
    ...env,
    MEMSHOP: workspace,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

interface Manifest {
  type?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

describe('libs/cache adopted by a new service, following its README', () => {
  let service: string;
  let memcached: MemcachedCluster;
  let db: TestDatabase;
  let before: Manifest;
  const manifest = (): Manifest =>
    JSON.parse(readFileSync(join(service, 'package.json'), 'utf8')) as Manifest;
  const installedVersion = (name: string): string =>
    (
      JSON.parse(readFileSync(join(service, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const workspaceVersion = (name: string): string =>
    (
      JSON.parse(readFileSync(join(workspace, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;

  beforeAll(async () => {
    service = mkdtempSync(join(tmpdir(), 'cache-adoption-'));
    [memcached, db] = await Promise.all([startMemcachedCluster(1), createTestDatabase('adoption')]);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query(readmeBlock('sql schema'));
    await client.query(`INSERT INTO product (id, name) VALUES (1, 'green tea')`);
    await client.end();
  });

  afterAll(async () => {
    await memcached?.stop();
    await db?.drop();
    if (service) rmSync(service, { recursive: true, force: true });
  });

  it('starts as a service of its own: npm init, a runtime pg, its own TypeScript', () => {
    // The versions the workspace installed are in npm's cache: no registry round trip needed.
    runShell(
      service,
      [
        'npm init -y',
        `npm install pg@${workspaceVersion('pg')}`,
        `npm install -D typescript@${workspaceVersion('typescript')} @types/node@${workspaceVersion('@types/node')} @types/pg@${workspaceVersion('@types/pg')}`,
      ].join('\n'),
    );
    before = manifest();
    expect(before.dependencies?.pg).toBeDefined();
  });

  it('installs and copies the lib with the README commands, leaving its own dependencies where they were', () => {
    runShell(service, readmeBlock('sh install'));
    runShell(service, readmeBlock('sh copy'));
    const after = manifest();
    expect(after.dependencies?.pg).toBe(before.dependencies?.pg);
    expect(after.devDependencies?.pg).toBeUndefined();
    expect(after.devDependencies?.typescript).toBe(before.devDependencies?.typescript);
    expect(after.dependencies?.typescript).toBeUndefined();
    expect(installedVersion('typescript')).toBe(workspaceVersion('typescript'));
    expect(after.devDependencies?.['@types/node']).toBe(before.devDependencies?.['@types/node']);
    // Everything the lib imports at run time is a runtime dependency of the service now.
    const lib = JSON.parse(readFileSync(join(workspace, 'libs/cache/package.json'), 'utf8')) as Manifest;
    for (const name of Object.keys(lib.dependencies ?? {})) expect(after.dependencies?.[name]).toBeDefined();
  });

  /** tsc --init as the README runs it, plus the README's additions for this module format. */
  function writeTsconfig(moduleFormat: 'commonjs' | 'esm'): void {
    rmSync(join(service, 'tsconfig.json'), { force: true });
    runShell(service, readmeBlock('sh tsconfig'));
    const generated = ts.parseConfigFileTextToJson(
      'tsconfig.json',
      readFileSync(join(service, 'tsconfig.json'), 'utf8'),
    );
    const additions = ts.parseConfigFileTextToJson('additions.json', readmeBlock('jsonc tsconfig.json'));
    const cjs = ts.parseConfigFileTextToJson('cjs.json', readmeBlock('jsonc tsconfig.json commonjs'));
    if (generated.error || additions.error || cjs.error) throw new Error('a tsconfig block does not parse');
    const config = generated.config as { compilerOptions: Record<string, unknown> };
    const merged = {
      ...config,
      ...additions.config,
      compilerOptions: {
        ...config.compilerOptions,
        ...(additions.config as { compilerOptions?: object }).compilerOptions,
        ...(moduleFormat === 'commonjs' ? (cjs.config as { compilerOptions?: object }).compilerOptions : {}),
      },
    };
    writeFileSync(join(service, 'tsconfig.json'), JSON.stringify(merged, null, 2));
  }

  /** Compiles with the service's own tsc and runs the README's first service: a miss, then a hit. */
  async function compileAndRun(): Promise<string> {
    const main = join(service, 'src/main.ts');
    mkdirSync(dirname(main), { recursive: true });
    writeFileSync(main, readmeBlock('ts src/main.ts'));
    rmSync(join(service, 'dist'), { recursive: true, force: true });
    try {
      execFileSync(process.execPath, [join(service, 'node_modules/typescript/bin/tsc'), '-p', '.'], {
        cwd: service,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      throw new Error(
        `tsc failed:\n${String((error as { stdout?: unknown }).stdout ?? error).slice(0, 4000)}`,
      );
    }
    // Each run starts from an empty memcached, so its first read is a miss.
    const [node] = memcached.nodes;
    await node?.kill();
    await node?.start();
    return execFileSync(
      process.execPath,
      [
        readmeBlock('sh run')
          .trim()
          .replace(/^node /, ''),
      ],
      {
        cwd: service,
        env: { ...userEnv(), MEMCACHED_SERVERS: memcached.servers.join(','), DATABASE_URL: db.url },
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 60_000,
      },
    );
  }

  it('compiles under tsc --init in a CommonJS service and serves a miss, then a hit', async () => {
    // npm 11's `npm init -y` writes "type": "commonjs"; older ones write no type (the same).
    expect(manifest().type ?? 'commonjs').toBe('commonjs');
    writeTsconfig('commonjs');
    expect(await compileAndRun()).toMatch(/^miss hit green tea$/m);
  });

  it('compiles under tsc --init in an ESM service ("type": "module") and serves a miss, then a hit', async () => {
    runShell(service, 'npm pkg set type=module');
    writeTsconfig('esm');
    expect(await compileAndRun()).toMatch(/^miss hit green tea$/m);
  });

  it("runs the lib's unit tests with the README's Jest config", () => {
    runShell(service, readmeBlock('sh test-install'));
    writeFileSync(join(service, 'jest.config.cjs'), readmeBlock('js jest.config.cjs'));
    let output: string;
    try {
      // Jest colours its summary when FORCE_COLOR is inherited (nx sets it for `npm test`).
      output = stripVTControlCharacters(
        execFileSync('bash', ['-euo', 'pipefail', '-c', `${readmeBlock('sh test').trim()} 2>&1`], {
          cwd: service,
          env: userEnv(),
          encoding: 'utf8',
          stdio: 'pipe',
          timeout: 240_000,
        }),
      );
    } catch (error) {
      throw new Error(
        `the lib's tests failed in the service:\n${String((error as { stdout?: unknown }).stdout ?? error).slice(-4000)}`,
      );
    }
    expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(output).not.toMatch(/failed/);
    // The test tooling did not move the service's own dependencies either.
    expect(manifest().dependencies?.pg).toBe(before.dependencies?.pg);
    expect(installedVersion('typescript')).toBe(workspaceVersion('typescript'));
  });
});
