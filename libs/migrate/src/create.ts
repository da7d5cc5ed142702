import { ensureDatabaseExists } from './database';
import { withSchemaEngine, NO_EXTERNAL_ENTITIES } from './engine-session';
import { MigrateError } from './errors';
import {
  migrationDirectoryName,
  migrationLockContent,
  readMigrationsList,
  slugifyMigrationName,
  writeMigration,
} from './migrations-dir';
import type { MigrateOptions } from './options';
import { readPrismaSchema } from './schema-files';

export interface CreateMigrationOptions extends MigrateOptions {
  /** Free text, slugified like `prisma migrate dev --name` ("Add user name" -> add_user_name). */
  name: string;
  /** Clock for the folder's timestamp (tests). */
  now?: () => Date;
}

export type CreateMigrationResult =
  { created: true; migrationName: string; directory: string; script: string } | { created: false };

/**
 * `prisma migrate dev --create-only`, without touching the main database's schema: replays the
 * migrations folder into a temporary shadow database, diffs it against the Prisma schema and,
 * when they differ, writes `<migrationsDir>/<timestamp>_<name>/migration.sql` and
 * `migration_lock.toml`. Nothing is applied; `deployMigrations` does that.
 *
 * The wasm engine's own `createMigration` cannot reach a shadow database through a driver
 * adapter (it fails with "PostgreSQL shadow DB must be provided through an external factory"),
 * while its `diff` from a migrations folder can. `diff` renders the same script `createMigration`
 * writes, except for the "Warnings" comment Prisma puts on top of a destructive migration.
 */
export async function createMigration(options: CreateMigrationOptions): Promise<CreateMigrationResult> {
  if (slugifyMigrationName(options.name) === '') {
    throw new MigrateError(`Migration name "${options.name}" has no letters or digits`);
  }
  const schema = await readPrismaSchema(options.schemaPath);
  const migrationsDir = options.migrationsDir ?? schema.defaultMigrationsDir;
  const migrationsList = await readMigrationsList(migrationsDir);
  // The engine learns the provider of a migrations folder from its lockfile; a first migration
  // has none yet (we write it below).
  migrationsList.lockfile.content ??= migrationLockContent('postgresql');

  // The engine connects to the main database even though a diff only needs shadow databases;
  // `prisma migrate dev` creates it when missing, and so do we.
  await ensureDatabaseExists(options.databaseUrl);
  const diff = await withSchemaEngine({ ...options, schema }, 'migrate create', (engine) =>
    engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: schema.files },
      script: true,
      exitCode: true,
      filters: NO_EXTERNAL_ENTITIES,
    }),
  );
  // With exitCode requested the engine answers 2 for "there is a difference", 0 for none.
  if (diff.exitCode !== 2 || !diff.stdout) return { created: false };

  const migrationName = migrationDirectoryName(options.name, (options.now ?? (() => new Date()))());
  const directory = await writeMigration(migrationsDir, migrationName, diff.stdout).catch((error: Error) => {
    throw new MigrateError(`Cannot write the migration: ${error.message}`, { cause: error });
  });
  return { created: true, migrationName, directory, script: diff.stdout };
}
