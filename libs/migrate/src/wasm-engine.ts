import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConstructorOptions, SchemaEngine } from '@prisma/schema-engine-wasm';
import type { ErrorCapturingSqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

export type { SchemaEngine };

/** What `SchemaEngine.new` hands to its log callback: one JSON or plain string per engine log line. */
export type EngineLogCallback = (line: string) => void;

interface SchemaEngineModule {
  SchemaEngine: {
    new: (
      options: ConstructorOptions,
      onLog: EngineLogCallback,
      adapterFactory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
    ) => Promise<SchemaEngine>;
  };
  version(): string;
}

/**
 * The part of the WebAssembly JS API used here. Node has it, but neither lib ES2023 nor
 * @types/node 20 declare it, and a global declaration would leak into every project importing us.
 */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<CompiledWasm>;
  instantiate(module: CompiledWasm, imports: Record<string, object>): Promise<{ exports: object }>;
}
type CompiledWasm = { readonly __brand: 'WebAssembly.Module' };
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const GLUE_EXPORT = /^export (function|class) ([A-Za-z_$][\w$]*)/gm;

/**
 * Loads `@prisma/schema-engine-wasm`, a wasm-bindgen "bundler" build: its entry file does
 * `import * as wasm from './schema_engine_bg.wasm'`, which neither Node nor Jest (CommonJS) can
 * load. So we do what a bundler would: compile the .wasm ourselves, give it the glue module's
 * exports as its `./schema_engine_bg.js` imports, then `__wbg_set_wasm` + `__wbindgen_start`.
 *
 * The glue itself is an ES module, which Jest's CommonJS runtime refuses to require without a
 * per-project transform. Its only ES syntax is `export function`/`export class` at the start of a
 * line (generated code, pinned version), so it is evaluated as a function body that returns
 * those bindings. Each call gets a fresh glue + wasm instance: a panic poisons only that engine.
 */
export class SchemaEngineLoader {
  #compiled: Promise<{ module: CompiledWasm; glueSource: string }> | undefined;
  readonly #packageDir: string;

  constructor(packageDir = resolveEnginePackageDir()) {
    this.#packageDir = packageDir;
  }

  async load(): Promise<SchemaEngineModule> {
    this.#compiled ??= this.#compile();
    const { module, glueSource } = await this.#compiled;
    installPanicRegistry();
    const glue = evaluateGlue(glueSource);
    unrefEngineTimers(glue);
    const instance = await webAssembly.instantiate(module, { './schema_engine_bg.js': glue });
    const exports = instance.exports as Record<string, unknown> & { __wbindgen_start(): void };
    (glue['__wbg_set_wasm'] as (wasm: unknown) => void)(exports);
    exports.__wbindgen_start();
    return glue as unknown as SchemaEngineModule;
  }

  async #compile(): Promise<{ module: CompiledWasm; glueSource: string }> {
    const [bytes, glueSource] = await Promise.all([
      readFile(path.join(this.#packageDir, 'schema_engine_bg.wasm')),
      readFile(path.join(this.#packageDir, 'schema_engine_bg.js'), 'utf8'),
    ]);
    return { module: await webAssembly.compile(bytes), glueSource };
  }
}

function resolveEnginePackageDir(): string {
  // The package's `exports` map lists `./schema_engine_bg` (not package.json), so resolve that.
  return path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
}

/**
 * The engine races some queries against a timer (10 s for the advisory lock `applyMigrations`
 * takes) and never clears the timer when the query wins, so a finished deploy would keep Node
 * alive for 10 more seconds. Unref'd timers still fire while anything else keeps the process up.
 */
function unrefEngineTimers(glue: Record<string, unknown>): void {
  for (const [name, binding] of Object.entries(glue)) {
    if (!name.startsWith('__wbg_setTimeout_') || typeof binding !== 'function') continue;
    glue[name] = (...args: unknown[]) => {
      const timer = (binding as (...a: unknown[]) => unknown)(...args);
      (timer as { unref?: () => void } | undefined)?.unref?.();
      return timer;
    };
  }
}

function evaluateGlue(source: string): Record<string, unknown> {
  const names: string[] = [];
  const body = source.replace(GLUE_EXPORT, (_match, kind: string, name: string) => {
    names.push(name);
    return `${kind} ${name}`;
  });
  if (/^export\s/m.test(body) || /^import\s/m.test(body)) {
    throw new Error('Unexpected module syntax in @prisma/schema-engine-wasm glue: was the package upgraded?');
  }
  const factory = new Function(`${body}\nreturn { ${names.join(', ')} };`) as () => Record<string, unknown>;
  return factory();
}

/**
 * The engine reports a Rust panic by calling `global.PRISMA_WASM_PANIC_REGISTRY.set_message`
 * just before trapping; without the registry the panic surfaces as an unrelated TypeError. Same
 * shape as the Prisma CLI's registry, so either can be the one installed.
 */
interface PanicRegistry {
  get(): string;
  set_message(message: string): void;
}

function installPanicRegistry(): void {
  const scope = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
  if (scope.PRISMA_WASM_PANIC_REGISTRY) return;
  let message = '';
  scope.PRISMA_WASM_PANIC_REGISTRY = {
    get: () => message,
    set_message: (text: string) => {
      message = `RuntimeError: ${text}`;
    },
  };
}

/** The message of the last engine panic in this process ('' if none): read after a RuntimeError. */
export function lastEnginePanic(): string {
  return (
    (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry }).PRISMA_WASM_PANIC_REGISTRY?.get() ?? ''
  );
}
