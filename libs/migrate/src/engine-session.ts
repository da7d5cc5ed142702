import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaFilter } from '@prisma/schema-engine-wasm';
import { assertPostgresUrl } from './database';
import { engineErrorToMigrateError } from './errors';
import { PgMigrationAdapterFactory } from './pg-adapter';
import type { PrismaSchema } from './schema-files';
import { SchemaEngineLoader, type SchemaEngine } from './wasm-engine';

/** No tables or enums are managed outside the schema (prisma.config.ts `tables.external`). */
export const NO_EXTERNAL_ENTITIES: SchemaFilter = { externalTables: [], externalEnums: [] };

export interface EngineSessionOptions {
  schema: PrismaSchema;
  databaseUrl: string;
  /** Receives the engine's log lines (JSON); silent by default. */
  onEngineLog?: (line: string) => void;
}

/**
 * Runs `work` against a fresh wasm schema engine connected to `databaseUrl` through
 * @prisma/adapter-pg, then frees the engine and closes every pool and shadow database it
 * opened, whether `work` succeeded or not.
 */
export async function withSchemaEngine<T>(
  options: EngineSessionOptions,
  command: string,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  assertPostgresUrl(options.databaseUrl);
  const factory = new PgMigrationAdapterFactory(options.databaseUrl);
  const boundFactory = bindMigrationAwareSqlAdapterFactory(factory);
  let engine: SchemaEngine | undefined;
  try {
    const { SchemaEngine } = await new SchemaEngineLoader().load();
    engine = await SchemaEngine.new(
      { datamodels: options.schema.files.map((file) => [file.path, file.content]) },
      options.onEngineLog ?? (() => {}),
      boundFactory,
    );
    return await work(engine);
  } catch (error) {
    throw engineErrorToMigrateError(error, command, boundFactory.errorRegistry);
  } finally {
    engine?.free();
    await factory.close();
  }
}
