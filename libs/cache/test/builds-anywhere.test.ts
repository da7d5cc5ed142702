import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const libSource = path.join(__dirname, '..', 'src');
const nodeModules = path.dirname(path.dirname(require.resolve('typescript/package.json')));

/** Compiles `dir` with `config`; resolves to tsc's output (empty when there are no errors). */
async function compile(dir: string, config: string): Promise<string> {
  try {
    await run(process.execPath, [tsc, '-p', config, '--noEmit'], { cwd: dir });
    return '';
  } catch (err) {
    return String((err as { stdout?: unknown }).stdout ?? err);
  }
}

/**
 * The lib as a team copies it: its src folder alone in a fresh project whose tsconfig is what
 * `tsc --init` (TypeScript 5.9) writes: strict, exactOptionalPropertyTypes,
 * noUncheckedIndexedAccess, module nodenext.
 */
describe('libs/cache/src compiles in a fresh tsc --init project', () => {
  let dir: string;
  let initConfig: { compilerOptions: Record<string, unknown> };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-builds-anywhere-'));
    fs.cpSync(libSource, path.join(dir, 'src'), { recursive: true });
    fs.symlinkSync(nodeModules, path.join(dir, 'node_modules'), 'dir');
    await run(process.execPath, [tsc, '--init'], { cwd: dir });
    const text = fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8');
    initConfig = ts.parseConfigFileTextToJson('tsconfig.json', text).config;
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses the strict defaults the lib must survive', () => {
    expect(initConfig.compilerOptions).toMatchObject({
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      module: 'nodenext',
    });
  });

  it('as an ES module service ("type": "module"), with zero errors', async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    expect(await compile(dir, 'tsconfig.json')).toBe('');
  });

  it('as a CommonJS service (module commonjs), with zero errors', async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    // verbatimModuleSyntax rejects `import` in every CommonJS file (the service's own too), and
    // esModuleInterop, implied by nodenext, has to be named under commonjs: what any CommonJS
    // service changes after `tsc --init`, nothing the lib asks for.
    const cjs = {
      compilerOptions: {
        ...initConfig.compilerOptions,
        module: 'commonjs',
        verbatimModuleSyntax: false,
        esModuleInterop: true,
      },
    };
    fs.writeFileSync(path.join(dir, 'tsconfig.cjs.json'), JSON.stringify(cjs));
    expect(await compile(dir, 'tsconfig.cjs.json')).toBe('');
  });
});
