import { withSchemaEngine, NO_EXTERNAL_ENTITIES } from './engine-session';
import { readMigrationsList } from './migrations-dir';
import type { MigrateOptions } from './options';
import { readPrismaSchema } from './schema-files';

export interface MigrationStatus {
  /** Migration folders on disk, oldest first. */
  local: string[];
  /** Local migrations recorded as applied. */
  applied: string[];
  /** Local migrations not applied yet (what deploy would apply). */
  pending: string[];
  /** Recorded as started and not finished: deploy refuses to run until resolved (P3009). */
  failed: string[];
  /** Applied, but migration.sql changed since (checksum mismatch). */
  edited: string[];
  /** Recorded in the database, missing from the folder. */
  missingLocally: string[];
  hasMigrationsTable: boolean;
  /** Nothing pending, failed or missing: what `prisma migrate status` exits 0 for. */
  upToDate: boolean;
}

/** `prisma migrate status`: compares the folder with `_prisma_migrations`; reads only. */
export async function migrationStatus(options: MigrateOptions): Promise<MigrationStatus> {
  const schema = await readPrismaSchema(options.schemaPath);
  const migrationsList = await readMigrationsList(options.migrationsDir ?? schema.defaultMigrationsDir);
  const diagnostic = await withSchemaEngine({ ...options, schema }, 'migrate status', (engine) =>
    engine.diagnoseMigrationHistory({
      migrationsList,
      optInToShadowDatabase: false,
      filters: NO_EXTERNAL_ENTITIES,
    }),
  );
  const local = migrationsList.migrationDirectories.map((directory) => directory.path);
  const history = diagnostic.history;
  const pending = history && 'unappliedMigrationNames' in history ? history.unappliedMigrationNames : [];
  const missingLocally =
    history && 'unpersistedMigrationNames' in history ? history.unpersistedMigrationNames : [];
  const failed = diagnostic.failedMigrationNames;
  const notApplied = new Set([...pending, ...failed]);
  return {
    local,
    applied: local.filter((name) => !notApplied.has(name)),
    pending,
    failed,
    edited: diagnostic.editedMigrationNames,
    missingLocally,
    hasMigrationsTable: diagnostic.hasMigrationsTable,
    upToDate: pending.length === 0 && failed.length === 0 && missingLocally.length === 0,
  };
}
