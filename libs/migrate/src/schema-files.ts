import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SchemaContainer } from '@prisma/schema-engine-wasm';
import { MigrateError } from './errors';

export interface PrismaSchema {
  /** Every `.prisma` file of the schema, with absolute paths (what the engine reports errors against). */
  files: SchemaContainer[];
  /** Where migrations live by default: `migrations/` next to schema.prisma, or inside a schema folder. */
  defaultMigrationsDir: string;
}

/** Reads a schema given as one `schema.prisma` file or as a folder of `.prisma` files (multi-file schema). */
export async function readPrismaSchema(schemaPath: string): Promise<PrismaSchema> {
  const resolved = path.resolve(schemaPath);
  const info = await stat(resolved).catch(() => null);
  if (!info) throw new MigrateError(`Prisma schema not found at ${resolved}`);
  if (info.isFile()) {
    return {
      files: [{ path: resolved, content: await readFile(resolved, 'utf8') }],
      defaultMigrationsDir: path.join(path.dirname(resolved), 'migrations'),
    };
  }
  const names = (await readdir(resolved, { recursive: true }))
    .filter((name) => name.endsWith('.prisma') && !name.split(path.sep).includes('migrations'))
    .sort();
  if (names.length === 0) throw new MigrateError(`No .prisma files in ${resolved}`);
  const files = await Promise.all(
    names.map(async (name) => {
      const file = path.join(resolved, name);
      return { path: file, content: await readFile(file, 'utf8') };
    }),
  );
  return { files, defaultMigrationsDir: path.join(resolved, 'migrations') };
}
