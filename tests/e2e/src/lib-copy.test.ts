// Teams copy libs/cache into their own repositories. This test does exactly that: it copies the
// folder (and the test-only harness its integration tests use) into an empty directory outside
// the workspace, writes a package.json with only the dependencies the lib's package.json and
// README name, installs them from the npm registry (or npm's cache), and runs the lib's own tests
// there. It fails if the lib imports anything the copy doesn't have.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const workspace = resolve(__dirname, '../../..');
const libDir = join(workspace, 'libs/cache');

interface LibManifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(libDir, 'package.json'), 'utf8')) as LibManifest;
const readme = readFileSync(join(libDir, 'README.md'), 'utf8');

describe('libs/cache copied into an empty project', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'memshop-lib-copy-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('names every dependency in its README', () => {
    const named = { ...manifest.dependencies, ...manifest.devDependencies };
    expect(Object.keys(named).length).toBeGreaterThan(0);
    for (const name of Object.keys(named)) expect(readme).toContain(name);
  });

  it('installs with only those dependencies and passes its own tests', () => {
    cpSync(join(libDir, 'src'), join(dir, 'cache/src'), { recursive: true });
    cpSync(join(workspace, 'libs/testing/src'), join(dir, 'testing/src'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify(
        {
          name: 'lib-copy-check',
          private: true,
          dependencies: manifest.dependencies,
          devDependencies: manifest.devDependencies,
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(dir, 'jest.config.cjs'),
      `module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/cache/src'],
  transform: { '^.+\\\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleNameMapper: { '^@memshop/testing$': '<rootDir>/testing/src/index.ts' },
  testTimeout: 60000,
  maxWorkers: 1,
};
`,
    );

    const npm = (args: string[]) =>
      execFileSync('npm', args, { cwd: dir, stdio: 'pipe', encoding: 'utf8', timeout: 300_000 });
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);

    try {
      execFileSync(
        process.execPath,
        [join(dir, 'node_modules/jest/bin/jest.js'), '--config', 'jest.config.cjs', '--ci'],
        { cwd: dir, stdio: 'pipe', encoding: 'utf8', timeout: 480_000 },
      );
    } catch (error) {
      // Jest reports on stderr; keep the failing tests' blocks so the outer report says which failed.
      const stderr = String((error as { stderr?: unknown }).stderr ?? error);
      const failures = stderr.split('\n').filter((line) => /●|Tests:|expect|Received|Expected/.test(line));
      throw new Error(`the copied library's tests failed:\n${failures.slice(0, 60).join('\n')}`);
    }
  }, 600_000);
});
