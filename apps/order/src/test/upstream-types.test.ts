/**
 * order-service's calls to catalog are typed by catalog's OpenAPI document: removing a field
 * from catalog's Product response schema must fail order-service's typecheck. Shown on a copy
 * of the client and what it imports (under tmp/, so node_modules resolve), with types generated
 * by openapi-typescript's CLI (as `npm run openapi` does) once from the committed
 * docs/openapi/catalog.json and once from a copy without the field.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { uniqueName } from '@memshop/testing';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const ORDER_SRC = path.join(ROOT, 'apps', 'order', 'src');
const SERVICE_KIT_SRC = path.join(ROOT, 'libs', 'service-kit', 'src');
const COPIED = ['data/catalog-client.ts', 'data/service-client.ts', 'domain/errors.ts', 'domain/order.ts'];

let dir: string;

beforeAll(async () => {
  dir = path.join(ROOT, 'tmp', uniqueName('order-typecheck'));
  for (const file of COPIED) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await cp(path.join(ORDER_SRC, file), path.join(dir, file));
  }
  // What the copied files take from service-kit, without the rest of it.
  await writeFile(
    path.join(dir, 'service-kit.ts'),
    [
      `export * from ${JSON.stringify(path.join(SERVICE_KIT_SRC, 'domain-error'))};`,
      `export type { ReadDeadline } from ${JSON.stringify(path.join(SERVICE_KIT_SRC, 'request-deadline'))};`,
    ].join('\n'),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Generates catalog's types from `document`, then tsc over the copied catalog client. */
async function typecheckWith(document: object): Promise<{ ok: boolean; output: string }> {
  const documentFile = path.join(dir, 'catalog.json');
  await writeFile(documentFile, JSON.stringify(document));
  await mkdir(path.join(dir, 'data', 'api-types'), { recursive: true });
  const openapiTs = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  const types = path.join(dir, 'data', 'api-types', 'catalog-api.ts');
  await run(process.execPath, [openapiTs, documentFile, '--output', types], { cwd: dir });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // The domain errors' one import from service-kit is their base class, a file of no imports.
  const tsconfig = {
    compilerOptions: {
      ...{ noEmit: true, strict: true, skipLibCheck: true, target: 'ES2022', lib: ['ES2023', 'DOM'] },
      ...{ module: 'preserve', moduleResolution: 'bundler', types: ['node'] },
      paths: { '@memshop/service-kit': [path.join(dir, 'service-kit.ts')] },
    },
    files: [path.join(dir, 'data', 'catalog-client.ts')],
  };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], {
      cwd: dir,
    });
    return { ok: true, output: stdout };
  } catch (err) {
    return { ok: false, output: String((err as { stdout?: string }).stdout ?? err) };
  }
}

it("fails order-service's typecheck when catalog's Product loses priceCents", async () => {
  const committed = path.join(ROOT, 'docs', 'openapi', 'catalog.json');
  const document = JSON.parse(await readFile(committed, 'utf8')) as {
    components?: { schemas?: Record<string, unknown> };
  };
  const control = await typecheckWith(document);
  expect(control).toEqual({ ok: true, output: '' });

  const product = (document.components?.schemas?.['Product'] ?? {}) as {
    properties: Record<string, unknown>;
    required: string[];
  };
  delete product.properties['priceCents'];
  product.required = product.required.filter((name) => name !== 'priceCents');
  const broken = await typecheckWith(document);
  expect(broken.ok).toBe(false);
  expect(broken.output).toMatch(/catalog-client\.ts.*Property 'priceCents' does not exist/);
}, 120_000);
