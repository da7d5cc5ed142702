import { ensureDatabaseExists } from './database';
import { withSchemaEngine, NO_EXTERNAL_ENTITIES } from './engine-session';
import { readMigrationsList } from './migrations-dir';
import type { MigrateOptions } from './options';
import { readPrismaSchema } from './schema-files';

export interface DeployResult {
  /** Migrations applied by this call, oldest first; empty when the database was up to date. */
  appliedMigrationNames: string[];
  /** True when the database did not exist and was created first. */
  createdDatabase: boolean;
}

/**
 * `prisma migrate deploy`: applies every migration of the folder not yet recorded in
 * `_prisma_migrations`, in name order, each recorded by the engine exactly as the Prisma CLI
 * records it. Never generates SQL, never resets, never uses a shadow database. Refuses to run
 * while a failed migration is recorded (P3009), like Prisma.
 */
export async function deployMigrations(options: MigrateOptions): Promise<DeployResult> {
  const schema = await readPrismaSchema(options.schemaPath);
  const migrationsDir = options.migrationsDir ?? schema.defaultMigrationsDir;
  const migrationsList = await readMigrationsList(migrationsDir);
  const createdDatabase = await ensureDatabaseExists(options.databaseUrl);
  const { appliedMigrationNames } = await withSchemaEngine(
    { ...options, schema },
    'migrate deploy',
    (engine) => engine.applyMigrations({ migrationsList, filters: NO_EXTERNAL_ENTITIES }),
  );
  return { appliedMigrationNames, createdDatabase };
}
