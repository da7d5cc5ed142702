export { createMigration, type CreateMigrationOptions, type CreateMigrationResult } from './create';
export { deployMigrations, type DeployResult } from './deploy';
export { MigrateError } from './errors';
export { generatePrismaClient, type GenerateOptions } from './generate';
export { migrationChecksum, migrationLockContent, slugifyMigrationName } from './migrations-dir';
export type { MigrateOptions } from './options';
export { PgMigrationAdapterFactory } from './pg-adapter';
export { migrationStatus, type MigrationStatus } from './status';
