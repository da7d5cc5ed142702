import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createMigration } from './create';
import { deployMigrations } from './deploy';
import { MigrateError } from './errors';
import { generatePrismaClient } from './generate';
import { migrationStatus } from './status';

const USAGE = `Usage: npm run migrate -- <command> --schema <path> [options]

Commands
  deploy     apply pending migrations (prisma migrate deploy)
  create     write a new migration from schema changes, apply nothing (needs --name)
  status     compare the migrations folder with the database; exit 1 unless up to date
  generate   prisma generate, offline

Options
  --schema <path>       schema.prisma (or a folder of .prisma files)            required
  --name <name>         migration name, for create
  --migrations <dir>    migrations folder (default: migrations/ next to the schema)
  --config <path>       prisma.config.ts, for generate
  --verbose             print the schema engine's log lines to stderr

Environment
  DATABASE_URL          postgresql://user:password@host:port/database   (not needed by generate)`;

const databaseUrlSchema = z
  .string({ error: 'DATABASE_URL is not set' })
  .min(1, 'DATABASE_URL is empty')
  .refine((value) => /^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(value), {
    message: 'DATABASE_URL must look like postgresql://user:password@host:port/database',
  });

const argsSchema = z.discriminatedUnion('command', [
  z.object({ command: z.literal('deploy'), schema: z.string() }),
  z.object({ command: z.literal('status'), schema: z.string() }),
  z.object({ command: z.literal('generate'), schema: z.string() }),
  z.object({
    command: z.literal('create'),
    schema: z.string(),
    name: z.string({ error: 'create needs --name <name>' }).min(1, 'create needs --name <name>'),
  }),
]);

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs one CLI invocation and returns its exit code (0 ok, 1 failure or not up to date, 2 bad usage). */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = consoleIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        schema: { type: 'string' },
        name: { type: 'string' },
        migrations: { type: 'string' },
        config: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const args = argsSchema.safeParse({ command: positionals[0], schema: values.schema, name: values.name });
  if (!args.success) {
    io.err(`${describeArgsError(positionals[0], values.schema, args.error)}\n\n${USAGE}`);
    return 2;
  }

  try {
    if (args.data.command === 'generate') {
      await generatePrismaClient({ schemaPath: args.data.schema, configPath: values.config });
      return 0;
    }
    const databaseUrl = databaseUrlSchema.safeParse(env['DATABASE_URL']);
    if (!databaseUrl.success) {
      io.err(databaseUrl.error.issues[0]?.message ?? 'DATABASE_URL is invalid');
      return 2;
    }
    const options = {
      schemaPath: args.data.schema,
      migrationsDir: values.migrations,
      databaseUrl: databaseUrl.data,
      onEngineLog: values.verbose ? (line: string) => io.err(line) : undefined,
    };
    switch (args.data.command) {
      case 'deploy': {
        const result = await deployMigrations(options);
        if (result.createdDatabase) io.out(`Created database ${describeDatabase(databaseUrl.data)}`);
        io.out(
          result.appliedMigrationNames.length === 0
            ? 'No pending migrations to apply.'
            : `Applied ${result.appliedMigrationNames.length} migration(s):\n${bulleted(result.appliedMigrationNames)}`,
        );
        return 0;
      }
      case 'create': {
        const result = await createMigration({ ...options, name: args.data.name });
        io.out(
          result.created
            ? `Created ${path.relative(process.cwd(), result.directory)}/migration.sql`
            : 'no changes: the schema matches the migrations folder',
        );
        return 0;
      }
      case 'status': {
        const status = await migrationStatus(options);
        io.out(`${status.local.length} migration(s) found, ${status.applied.length} applied`);
        if (status.pending.length) io.out(`Pending:\n${bulleted(status.pending)}`);
        if (status.failed.length) io.out(`Failed (resolve before deploying):\n${bulleted(status.failed)}`);
        if (status.missingLocally.length)
          io.out(`Applied but missing locally:\n${bulleted(status.missingLocally)}`);
        if (status.edited.length) io.out(`Edited after being applied:\n${bulleted(status.edited)}`);
        if (status.upToDate) io.out('Database schema is up to date!');
        return status.upToDate ? 0 : 1;
      }
    }
  } catch (error) {
    if (error instanceof MigrateError) {
      io.err(error.message);
      return 1;
    }
    io.err(`Unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

function describeArgsError(
  command: string | undefined,
  schema: string | undefined,
  error: z.ZodError,
): string {
  if (!command) return 'Missing command';
  if (!['deploy', 'create', 'status', 'generate'].includes(command)) return `Unknown command "${command}"`;
  if (!schema) return `${command} needs --schema <path>`;
  return error.issues[0]?.message ?? 'Invalid arguments';
}

function describeDatabase(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `"${decodeURIComponent(url.pathname.slice(1))}" at ${url.host}`;
}

function bulleted(names: string[]): string {
  return names.map((name) => `  ${name}`).join('\n');
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
