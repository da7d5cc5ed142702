/** `npm run openapi`: writes each service's OpenAPI document and order-service's upstream types. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderApiFiles, ROOT } from './openapi-documents';

async function main(): Promise<void> {
  for (const [file, content] of await renderApiFiles()) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    console.log(`openapi: wrote ${path.relative(ROOT, file)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
