// The README is code a reader copies, so it is compiled like code: every ```ts block is type
// checked against the lib with the tsconfig the README tells a service to use (tsc --init plus
// its changes), once as an ESM and once as a CommonJS service; its install line names exactly the
// lib's dependencies; every public name is documented; the wiring count it states is the count
// of its own example.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const libRoot = resolve(__dirname, '..');
const readme = readFileSync(join(libRoot, 'README.md'), 'utf8');
const nodeModules = resolve(require.resolve('typescript'), '../../..');
const tsc = join(nodeModules, 'typescript/bin/tsc');

interface Block {
  info: string;
  body: string;
}

const blocks: Block[] = [...readme.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  info: (m[1] ?? '').trim(),
  body: m[2] ?? '',
}));

function blockOf(info: string): string {
  const found = blocks.filter((b) => b.info === info);
  if (found.length !== 1) throw new Error(`README: ${found.length} blocks marked \`\`\`${info}, wants 1`);
  return (found[0] as Block).body;
}

function parseJsonc(name: string, text: string): { compilerOptions?: Record<string, unknown> } {
  const parsed = ts.parseConfigFileTextToJson(name, text);
  if (parsed.error)
    throw new Error(`${name}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, '\n')}`);
  return parsed.config as { compilerOptions?: Record<string, unknown> };
}

/** Names a module re-exports (`export { a, type B } from`, `export class C`, ...). */
function exportedNames(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const name = part
        .replace(/\btype\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)
        ?.trim();
      if (name) names.add(name);
    }
  }
  for (const m of source.matchAll(
    /export\s+(?:declare\s+)?(?:class|function|const|interface|type|enum)\s+(\w+)/g,
  )) {
    if (m[1]) names.add(m[1]);
  }
  return [...names];
}

describe('README', () => {
  let service: string;

  beforeAll(() => {
    // A service laid out as the quick start says: the lib under cache/src, examples under src/.
    service = mkdtempSync(join(tmpdir(), 'cache-readme-'));
    cpSync(join(libRoot, 'src'), join(service, 'cache/src'), { recursive: true });
    symlinkSync(nodeModules, join(service, 'node_modules'), 'dir');
    let example = 0;
    for (const { info, body } of blocks) {
      const [lang, path] = info.split(/\s+/);
      if (lang !== 'ts') continue;
      example += 1;
      const file = join(service, path ?? `src/readme-example-${example}.ts`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, body);
    }
    execFileSync(process.execPath, [tsc, '--init'], { cwd: service, stdio: 'pipe' });
  });

  afterAll(() => {
    if (service) rmSync(service, { recursive: true, force: true });
  });

  function typecheck(moduleFormat: 'esm' | 'commonjs'): string {
    writeFileSync(
      join(service, 'package.json'),
      JSON.stringify({
        name: 'readme-check',
        private: true,
        ...(moduleFormat === 'esm' ? { type: 'module' } : {}),
      }),
    );
    const generated = parseJsonc('tsconfig.json', readFileSync(join(service, 'tsconfig.json'), 'utf8'));
    const additions = parseJsonc('README tsconfig.json', blockOf('jsonc tsconfig.json'));
    const cjs = parseJsonc('README tsconfig.json commonjs', blockOf('jsonc tsconfig.json commonjs'));
    const config = {
      ...generated,
      ...additions,
      compilerOptions: {
        ...generated.compilerOptions,
        ...additions.compilerOptions,
        ...(moduleFormat === 'commonjs' ? cjs.compilerOptions : {}),
        noEmit: true,
      },
    };
    writeFileSync(join(service, `tsconfig.${moduleFormat}.json`), JSON.stringify(config));
    try {
      execFileSync(process.execPath, [tsc, '-p', `tsconfig.${moduleFormat}.json`], {
        cwd: service,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return '';
    } catch (error) {
      return String((error as { stdout?: unknown }).stdout ?? error);
    }
  }

  it('has ts examples, and every one compiles in an ESM service with the tsconfig it teaches', () => {
    expect(blocks.filter((b) => b.info.split(/\s+/)[0] === 'ts').length).toBeGreaterThan(5);
    expect(typecheck('esm')).toBe('');
  });

  it('and in a CommonJS service', () => {
    expect(typecheck('commonjs')).toBe('');
  });

  it('installs exactly the dependencies and peer dependencies of package.json, with their ranges', () => {
    const manifest = JSON.parse(readFileSync(join(libRoot, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const [runtimeLine = ''] = blockOf('sh install').trim().split('\n');
    const installed = runtimeLine
      .split(/\s+/)
      .filter((word) => /^@?[\w./-]+@[\^~]?\d/.test(word))
      .sort();
    const expected = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })
      .map(([name, range]) => `${name}@${range}`)
      .sort();
    expect(installed).toEqual(expected);
    // pg and typescript belong to the service: the README never installs them over the service's own.
    expect(blockOf('sh install')).not.toMatch(/\s(pg|typescript)(@|\s|$)/);
  });

  it('documents every public name', () => {
    const documented = new Set([...readme.matchAll(/`([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
    const entryPoints = ['index.ts', 'advanced.ts'].map((f) => join(libRoot, 'src', f));
    const missing = entryPoints.flatMap((file) => {
      try {
        return exportedNames(file).filter((name) => !documented.has(name));
      } catch {
        return [];
      }
    });
    expect(missing).toEqual([]);
  });

  it('states the wiring count of its own whole-service example', () => {
    const service = blockOf('ts src/service.ts');
    const wiring = service.slice(service.indexOf('// wiring:start'), service.indexOf('// wiring:end'));
    const lines = wiring
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('//'));
    expect(readme).toMatch(new RegExp(`\\| after: .*\\| +${lines.length} \\|`));
  });
});
