export interface MigrateOptions {
  /** schema.prisma, or a folder of .prisma files. */
  schemaPath: string;
  /** Default: `migrations/` next to schema.prisma (Prisma's own default). */
  migrationsDir?: string;
  /** postgresql://user:password@host:port/database[?schema=...] */
  databaseUrl: string;
  /** Receives the schema engine's JSON log lines; silent by default. */
  onEngineLog?: (line: string) => void;
}
