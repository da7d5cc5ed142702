import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { generatePrismaClient } from '@memshop/migrate';
import { runCli } from '../src/cli';
import { TestDatabases } from './postgres';

const WORKSPACE = path.join(__dirname, '..', '..', '..');
const FIXTURES = path.join(__dirname, '..', 'test-fixtures');
// Inside the workspace (and git-ignored), so that a prisma.config.ts here resolves `prisma/config`.
const TMP_ROOT = path.join(__dirname, '..', 'tmp');

const databases = new TestDatabases();
let workDir: string;
let schemaPath: string;

beforeAll(async () => {
  await mkdir(TMP_ROOT, { recursive: true });
  workDir = await mkdtemp(path.join(TMP_ROOT, 'cli-'));
  schemaPath = path.join(workDir, 'schema.prisma');
  await copyFile(path.join(FIXTURES, 'schema.prisma'), schemaPath);
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
  const { leftoverShadowDatabases } = await databases.dropAll();
  expect(leftoverShadowDatabases).toEqual([]);
});

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run migrate', () => {
  let databaseUrl: string;

  it('creates, reports, deploys and reports again, with Prisma-like exit codes', async () => {
    databaseUrl = await databases.create();
    const env = { DATABASE_URL: databaseUrl };

    const created = await cli(['create', '--schema', schemaPath, '--name', 'init'], env);
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toMatch(/^Created .*migrations\/\d{14}_init\/migration\.sql$/);

    const pending = await cli(['status', '--schema', schemaPath], env);
    expect(pending.code).toBe(1);
    expect(pending.out).toMatch(/1 migration\(s\) found, 0 applied\nPending:\n {2}\d{14}_init/);

    const deployed = await cli(['deploy', '--schema', schemaPath], env);
    expect(deployed.code).toBe(0);
    expect(deployed.out).toMatch(/^Applied 1 migration\(s\):\n {2}\d{14}_init$/);

    expect(await cli(['deploy', '--schema', schemaPath], env)).toMatchObject({
      code: 0,
      out: 'No pending migrations to apply.',
    });
    const upToDate = await cli(['status', '--schema', schemaPath], env);
    expect(upToDate).toMatchObject({ code: 0 });
    expect(upToDate.out).toContain('Database schema is up to date!');
    expect(await cli(['create', '--schema', schemaPath, '--name', 'again'], env)).toMatchObject({
      code: 0,
      out: 'no changes: the schema matches the migrations folder',
    });
  });

  it('runs as the root package script and exits non-zero on failure', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, DATABASE_URL: databaseUrl };

    const ok = await run('npm', ['run', '-s', 'migrate', '--', 'status', '--schema', schemaPath], {
      cwd: WORKSPACE,
      env,
    });
    expect(ok.stdout).toContain('Database schema is up to date!');

    const failure = await run(
      'npm',
      ['run', '-s', 'migrate', '--', 'deploy', '--schema', path.join(workDir, 'missing.prisma')],
      {
        cwd: WORKSPACE,
        env,
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('Prisma schema not found at');
  });

  it.each([
    [[], {}, /Missing command/],
    [['push', '--schema', 'x'], {}, /Unknown command "push"/],
    [['deploy'], {}, /deploy needs --schema <path>/],
    [['create', '--schema', 'x'], { DATABASE_URL: 'postgresql://u@h/db' }, /create needs --name <name>/],
    [['deploy', '--schema', 'x'], {}, /DATABASE_URL is not set/],
    [
      ['deploy', '--schema', 'x'],
      { DATABASE_URL: 'mysql://u@h/db' },
      /DATABASE_URL must look like postgresql:/,
    ],
    [['deploy', '--schema', 'x', '--force'], {}, /Unknown option '--force'/],
  ])('rejects %j with exit code 2 and says why', async (argv, env, message) => {
    const result = await cli(argv, env);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });

  it('says which database it cannot reach', async () => {
    const result = await cli(['deploy', '--schema', schemaPath], {
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nothing',
    });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Cannot connect to the database: .*ECONNREFUSED/);
  });
});

describe('generate', () => {
  it('runs prisma generate offline, even when prisma.config.ts reads an unset DATABASE_URL', async () => {
    const folder = path.join(workDir, 'generate');
    await mkdir(folder);
    await copyFile(path.join(FIXTURES, 'schema.prisma'), path.join(folder, 'schema.prisma'));
    const configPath = path.join(folder, 'prisma.config.ts');
    await writeFile(
      configPath,
      "import { defineConfig, env } from 'prisma/config';\n" +
        "export default defineConfig({ schema: 'schema.prisma', datasource: { url: env('DATABASE_URL') } });\n",
    );
    const env = { ...process.env };
    delete env['DATABASE_URL'];

    const { output } = await generatePrismaClient({
      schemaPath: path.join(folder, 'schema.prisma'),
      configPath,
      env,
      stdio: 'pipe',
    });

    // Prisma colours its output when it thinks it has a terminal (FORCE_COLOR under Nx).
    expect(stripVTControlCharacters(output)).toContain('Generated Prisma Client');
    expect((await stat(path.join(folder, 'generated', 'client.ts'))).isFile()).toBe(true);
    expect(await readdir(path.join(folder, 'generated', 'models'))).toEqual(['Author.ts', 'Post.ts']);
  });
});
