import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createMigration,
  deployMigrations,
  migrationChecksum,
  migrationLockContent,
  migrationStatus,
  MigrateError,
} from '@memshop/migrate';
import { TestDatabases } from './postgres';

const FIXTURES = path.join(__dirname, '..', 'test-fixtures');
const TMP_ROOT = path.join(__dirname, '..', 'tmp');

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const databases = new TestDatabases();
let workDir: string;

beforeAll(async () => {
  await mkdir(TMP_ROOT, { recursive: true });
  workDir = await mkdtemp(path.join(TMP_ROOT, 'migrate-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
  const { leftoverShadowDatabases } = await databases.dropAll();
  expect(leftoverShadowDatabases).toEqual([]);
});

/** A copy of a fixture schema in its own folder, so migrations land in `<folder>/migrations`. */
async function schemaFolder(
  name: string,
  fixture = 'schema.prisma',
): Promise<{ schemaPath: string; migrationsDir: string }> {
  const folder = path.join(workDir, name);
  await mkdir(folder, { recursive: true });
  const schemaPath = path.join(folder, 'schema.prisma');
  await copyFile(path.join(FIXTURES, fixture), schemaPath);
  return { schemaPath, migrationsDir: path.join(folder, 'migrations') };
}

const at = (iso: string) => () => new Date(iso);

describe('create, deploy and status on a real Postgres', () => {
  let schemaPath: string;
  let migrationsDir: string;
  let databaseUrl: string;
  let initName: string;

  beforeAll(async () => {
    ({ schemaPath, migrationsDir } = await schemaFolder('history'));
    databaseUrl = await databases.create();
  });

  it('creates the first migration as Prisma would write it', async () => {
    const result = await createMigration({
      schemaPath,
      databaseUrl,
      name: 'Init',
      now: at('2025-01-02T03:04:05Z'),
    });

    expect(result.created).toBe(true);
    if (!result.created) return;
    initName = result.migrationName;
    expect(initName).toBe('20250102030405_init');
    expect(result.directory).toBe(path.join(migrationsDir, initName));
    const sql = await readFile(path.join(migrationsDir, initName, 'migration.sql'), 'utf8');
    expect(sql).toBe(result.script);
    expect(sql).toContain(`CREATE TYPE "Role" AS ENUM ('ADMIN', 'MEMBER');`);
    expect(sql).toContain('CREATE TABLE "Author"');
    expect(sql).toContain('CREATE TABLE "Post"');
    expect(sql).toContain('CREATE UNIQUE INDEX "Author_email_key" ON "Author"("email");');
    expect(sql).toContain('CREATE INDEX "Post_authorId_createdAt_idx" ON "Post"("authorId", "createdAt");');
    expect(sql).toContain('FOREIGN KEY ("authorId") REFERENCES "Author"("id") ON DELETE CASCADE');
    expect(await readFile(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toBe(
      migrationLockContent('postgresql'),
    );
    expect(await readdir(migrationsDir)).toEqual([initName, 'migration_lock.toml']);
  });

  it('reports the new migration as pending before deploy', async () => {
    const status = await migrationStatus({ schemaPath, databaseUrl });

    expect(status).toMatchObject({
      local: [initName],
      applied: [],
      pending: [initName],
      failed: [],
      upToDate: false,
    });
    expect(status.hasMigrationsTable).toBe(false);
  });

  it('deploys it and records it in _prisma_migrations exactly as Prisma does', async () => {
    const result = await deployMigrations({ schemaPath, databaseUrl });

    expect(result).toEqual({ appliedMigrationNames: [initName], createdDatabase: false });
    const rows = await databases.query<MigrationRow>(databaseUrl, 'SELECT * FROM _prisma_migrations');
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const fileBytes = await readFile(path.join(migrationsDir, initName, 'migration.sql'));
    expect(row).toMatchObject({
      migration_name: initName,
      checksum: migrationChecksum(fileBytes),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
  });

  it('leaves the tables, enum, index and foreign key in the database', async () => {
    const tables = await databases.query<{ table_name: string }>(
      databaseUrl,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(['Author', 'Post', '_prisma_migrations']);
    const labels = await databases.query<{ enumlabel: string }>(
      databaseUrl,
      `SELECT enumlabel FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid WHERE typname = 'Role' ORDER BY enumsortorder`,
    );
    expect(labels.map((l) => l.enumlabel)).toEqual(['ADMIN', 'MEMBER']);
    const indexes = await databases.query<{ indexname: string }>(
      databaseUrl,
      `SELECT indexname FROM pg_indexes WHERE tablename = 'Post' ORDER BY indexname`,
    );
    expect(indexes.map((i) => i.indexname)).toEqual(['Post_authorId_createdAt_idx', 'Post_pkey']);
    const author = await databases.query<{ id: number }>(
      databaseUrl,
      `INSERT INTO "Author" (email) VALUES ('a@example.com') RETURNING id`,
    );
    await expect(
      databases.query(databaseUrl, `INSERT INTO "Post" (title, "authorId") VALUES ('x', $1)`, [
        author[0]!.id + 1,
      ]),
    ).rejects.toThrow(/foreign key/);
  });

  it('is idempotent: a second deploy applies nothing and writes no row', async () => {
    const result = await deployMigrations({ schemaPath, databaseUrl });

    expect(result.appliedMigrationNames).toEqual([]);
    const rows = await databases.query(databaseUrl, 'SELECT 1 FROM _prisma_migrations');
    expect(rows).toHaveLength(1);
    expect((await migrationStatus({ schemaPath, databaseUrl })).upToDate).toBe(true);
  });

  it('creates nothing when the schema has not changed', async () => {
    const result = await createMigration({
      schemaPath,
      databaseUrl,
      name: 'noop',
      now: at('2025-01-02T03:05:00Z'),
    });

    expect(result).toEqual({ created: false });
    expect(await readdir(migrationsDir)).toEqual([initName, 'migration_lock.toml']);
  });

  it('creates a second migration holding only the schema change', async () => {
    await copyFile(path.join(FIXTURES, 'schema-v2.prisma'), schemaPath);

    const result = await createMigration({
      schemaPath,
      databaseUrl,
      name: 'add author name',
      now: at('2025-01-03T00:00:00Z'),
    });

    expect(result.created).toBe(true);
    if (!result.created) return;
    expect(result.migrationName).toBe('20250103000000_add_author_name');
    expect(result.script.trim()).toBe('-- AlterTable\nALTER TABLE "Author" ADD COLUMN     "name" TEXT;');

    const status = await migrationStatus({ schemaPath, databaseUrl });
    expect(status).toMatchObject({ applied: [initName], pending: [result.migrationName], upToDate: false });

    expect((await deployMigrations({ schemaPath, databaseUrl })).appliedMigrationNames).toEqual([
      result.migrationName,
    ]);
    const rows = await databases.query<MigrationRow>(
      databaseUrl,
      'SELECT * FROM _prisma_migrations ORDER BY started_at',
    );
    expect(rows.map((r) => [r.migration_name, r.applied_steps_count, r.finished_at !== null])).toEqual([
      [initName, 1, true],
      [result.migrationName, 1, true],
    ]);
    expect(rows[1]!.checksum).toBe(
      migrationChecksum(await readFile(path.join(result.directory, 'migration.sql'))),
    );
    expect(await migrationStatus({ schemaPath, databaseUrl })).toMatchObject({
      applied: [initName, result.migrationName],
      pending: [],
      upToDate: true,
    });
  });

  it('reports a migration whose file changed after it was applied (checksum mismatch)', async () => {
    await appendFile(path.join(migrationsDir, initName, 'migration.sql'), '-- edited afterwards\n');

    expect((await migrationStatus({ schemaPath, databaseUrl })).edited).toEqual([initName]);
  });

  it('drops every shadow database it created', async () => {
    expect(await databases.leftoverShadowDatabases()).toEqual([]);
  });
});

describe('deploy on a fresh server', () => {
  it('creates a missing database, then applies the migrations folder', async () => {
    const { schemaPath } = await schemaFolder('fresh');
    const scratchUrl = await databases.create();
    await createMigration({ schemaPath, databaseUrl: scratchUrl, name: 'init' });
    const databaseUrl = await databases.reserve();

    const result = await deployMigrations({ schemaPath, databaseUrl });

    expect(result.createdDatabase).toBe(true);
    expect(result.appliedMigrationNames).toHaveLength(1);
  });
});

describe('a ?schema= database url', () => {
  it('keeps tables and _prisma_migrations in that Postgres schema, as Prisma does', async () => {
    const { schemaPath } = await schemaFolder('named-schema');
    const databaseUrl = `${await databases.create()}?schema=inventory`;
    await createMigration({ schemaPath, databaseUrl, name: 'init' });

    await deployMigrations({ schemaPath, databaseUrl });

    const tables = await databases.query<{ table_schema: string; table_name: string }>(
      databaseUrl,
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_name`,
    );
    expect(tables).toEqual([
      { table_schema: 'inventory', table_name: 'Author' },
      { table_schema: 'inventory', table_name: 'Post' },
      { table_schema: 'inventory', table_name: '_prisma_migrations' },
    ]);
    expect((await migrationStatus({ schemaPath, databaseUrl })).upToDate).toBe(true);
  });
});

describe('concurrent deploys', () => {
  it('apply each migration once: the engine serialises them with an advisory lock', async () => {
    const { schemaPath } = await schemaFolder('concurrent');
    const databaseUrl = await databases.create();
    await createMigration({ schemaPath, databaseUrl, name: 'init' });

    const results = await Promise.all([1, 2, 3].map(() => deployMigrations({ schemaPath, databaseUrl })));

    expect(results.flatMap((r) => r.appliedMigrationNames)).toHaveLength(1);
    expect(await databases.query(databaseUrl, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(1);
  });
});

describe('failures', () => {
  it('records a migration that fails, keeps the database unchanged and refuses later deploys', async () => {
    const { schemaPath, migrationsDir } = await schemaFolder('broken');
    const databaseUrl = await databases.create();
    const name = '20250101000000_broken';
    await mkdir(path.join(migrationsDir, name), { recursive: true });
    await writeFile(
      path.join(migrationsDir, name, 'migration.sql'),
      'CREATE TABLE "Half" (id int);\nSELECT * FROM missing_table;\n',
    );

    const failure = await deployMigrations({ schemaPath, databaseUrl }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrateError);
    expect((failure as MigrateError).message).toContain(name);
    expect((failure as MigrateError).message).toContain('missing_table');
    const rows = await databases.query<MigrationRow>(databaseUrl, 'SELECT * FROM _prisma_migrations');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      migration_name: name,
      finished_at: null,
      rolled_back_at: null,
      applied_steps_count: 0,
    });
    expect(rows[0]!.logs).toContain('missing_table');
    // One migration is one transaction, as with Prisma's native engine: the first statement is undone.
    expect(
      await databases.query(databaseUrl, `SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`),
    ).toEqual([]);
    expect(await migrationStatus({ schemaPath, databaseUrl })).toMatchObject({
      failed: [name],
      upToDate: false,
    });
    await expect(deployMigrations({ schemaPath, databaseUrl })).rejects.toMatchObject({ code: 'P3009' });
  });

  it('drops the shadow database when the migrations folder does not replay', async () => {
    const { schemaPath, migrationsDir } = await schemaFolder('unreplayable');
    const databaseUrl = await databases.create();
    const name = '20250101000000_bad';
    await mkdir(path.join(migrationsDir, name), { recursive: true });
    await writeFile(
      path.join(migrationsDir, name, 'migration.sql'),
      'ALTER TABLE "Nope" ADD COLUMN x int;\n',
    );

    await expect(createMigration({ schemaPath, databaseUrl, name: 'next' })).rejects.toThrow(MigrateError);

    expect(await databases.leftoverShadowDatabases()).toEqual([]);
    expect(await readdir(migrationsDir)).toEqual([name]);
  });

  it('rejects a URL that is not Postgres before touching anything', async () => {
    const { schemaPath } = await schemaFolder('bad-url');
    await expect(deployMigrations({ schemaPath, databaseUrl: 'mysql://root@localhost/db' })).rejects.toThrow(
      /postgresql:\/\//,
    );
  });

  it('names the schema path when it does not exist', async () => {
    await expect(
      migrationStatus({
        schemaPath: path.join(workDir, 'nowhere.prisma'),
        databaseUrl: 'postgresql://postgres@127.0.0.1:5432/unused',
      }),
    ).rejects.toThrow(/Prisma schema not found at .*nowhere\.prisma/);
  });
});
