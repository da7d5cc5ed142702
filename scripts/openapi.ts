/**
 * `npm run openapi`: writes each service's OpenAPI document (docs/openapi/) and order-service's
 * upstream types (apps/order/src/data/api-types/). `-- --check` writes nothing and exits 1 when
 * a committed file differs from what the code generates.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderApiFiles, ROOT } from './openapi-documents';

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, content] of await renderApiFiles()) {
    const name = path.relative(ROOT, file);
    if (check) {
      const committed = await readFile(file, 'utf8').catch(() => undefined);
      if (committed !== content) stale.push(name);
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    console.log(`openapi: wrote ${name}`);
  }
  if (stale.length > 0) {
    console.error(`openapi: out of date (run \`npm run openapi\` and commit): ${stale.join(', ')}`);
    process.exit(1);
  }
  if (check) console.log('openapi: every generated file is up to date');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
