/**
 * infra/postgres/service-roles.sql against the real local Postgres: per service it creates the
 * database and its owner and runtime roles (as the compose init script does), the service's own
 * migrations run as the owner, and the runtime role can read and write the tables but not change
 * the schema or reach another service's database. Everything it creates is named memshop_test_*
 * and dropped in afterAll.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { deployMigrations } from '@memshop/migrate';
import { Client } from 'pg';
import { repoPath } from './deploy-contract';

const run = promisify(execFile);
const ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SERVICES = ['catalog', 'user', 'order'] as const;
type Service = (typeof SERVICES)[number];

const suffix = randomBytes(4).toString('hex');
const names = (service: Service) => ({
  database: `memshop_test_${service}_${suffix}`,
  owner: `memshop_test_${service}_${suffix}_owner`,
  runtime: `memshop_test_${service}_${suffix}_runtime`,
});
const password = () => randomBytes(12).toString('hex');

function urlFor(role: string, rolePassword: string, database: string): string {
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.password = rolePassword;
  url.pathname = `/${database}`;
  return url.toString();
}

const passwords = new Map<string, string>();
const created = { databases: [] as string[], roles: [] as string[] };

async function connectAs(role: string, database: string): Promise<Client> {
  const client = new Client({ connectionString: urlFor(role, passwords.get(role)!, database) });
  await client.connect();
  return client;
}

async function withClient<T>(role: string, database: string, use: (c: Client) => Promise<T>): Promise<T> {
  const client = await connectAs(role, database);
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code);
  }
}

beforeAll(async () => {
  const admin = new URL(ADMIN_URL);
  for (const service of SERVICES) {
    const { database, owner, runtime } = names(service);
    passwords.set(owner, password());
    passwords.set(runtime, password());
    created.roles.push(owner, runtime);
    created.databases.push(database);
    await run(
      'psql',
      [
        '--no-psqlrc',
        '--quiet',
        '--host',
        admin.hostname,
        '--port',
        admin.port || '5432',
        '--username',
        decodeURIComponent(admin.username),
        '--dbname',
        admin.pathname.slice(1),
        '-v',
        `database=${database}`,
        '-v',
        `owner=${owner}`,
        '-v',
        `runtime=${runtime}`,
        '-f',
        repoPath('infra/postgres/service-roles.sql'),
      ],
      {
        env: {
          ...process.env,
          PGPASSWORD: decodeURIComponent(admin.password),
          OWNER_PASSWORD: passwords.get(owner),
          RUNTIME_PASSWORD: passwords.get(runtime),
        },
      },
    );
    await deployMigrations({
      schemaPath: repoPath('apps', service, 'src/prisma/schema.prisma'),
      databaseUrl: urlFor(owner, passwords.get(owner)!, database),
    });
  }
}, 180_000);

afterAll(async () => {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (const database of created.databases)
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const role of created.roles) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
  } finally {
    await admin.end();
  }
});

describe.each(SERVICES)('%s: owner and runtime roles', (service) => {
  const { database, owner, runtime } = names(service);

  test('the migrations ran as the owner, which owns every table', async () => {
    const owners = await withClient(owner, database, async (c) => {
      const { rows } = await c.query<{ tableowner: string }>(
        `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`,
      );
      return rows.map((r) => r.tableowner);
    });
    expect(owners).toEqual([owner]);
  });

  test('the runtime role reads, inserts (with the sequence), updates and deletes', async () => {
    await withClient(runtime, database, async (c) => {
      const inserted = await c.query<{ seq: string }>(
        `INSERT INTO memshop_outbox (event_id, routing_key, payload)
         VALUES (gen_random_uuid(), 'probe', '{}'::jsonb) RETURNING seq`,
      );
      const seq = inserted.rows[0]!.seq;
      expect((await c.query(`UPDATE memshop_outbox SET attempts = 1 WHERE seq = $1`, [seq])).rowCount).toBe(
        1,
      );
      expect((await c.query(`SELECT 1 FROM memshop_outbox WHERE seq = $1`, [seq])).rowCount).toBe(1);
      expect((await c.query(`DELETE FROM memshop_outbox WHERE seq = $1`, [seq])).rowCount).toBe(1);
    });
  });

  test('the runtime role can read and write every table the migrations created', async () => {
    const missing = await withClient(runtime, database, async (c) => {
      const { rows } = await c.query<{ tablename: string; rights: string }>(
        `SELECT tablename,
                concat_ws(',',
                  CASE WHEN has_table_privilege(current_user, format('public.%I', tablename), 'SELECT') THEN 'SELECT' END,
                  CASE WHEN has_table_privilege(current_user, format('public.%I', tablename), 'INSERT') THEN 'INSERT' END,
                  CASE WHEN has_table_privilege(current_user, format('public.%I', tablename), 'UPDATE') THEN 'UPDATE' END,
                  CASE WHEN has_table_privilege(current_user, format('public.%I', tablename), 'DELETE') THEN 'DELETE' END
                ) AS rights
           FROM pg_tables WHERE schemaname = 'public'`,
      );
      return rows.filter((r) => r.rights !== 'SELECT,INSERT,UPDATE,DELETE').map((r) => r.tablename);
    });
    expect(missing).toEqual([]);
  });

  test('the runtime role cannot CREATE, DROP, ALTER or TRUNCATE (42501 insufficient_privilege)', async () => {
    const results = await withClient(runtime, database, async (c) => ({
      createTable: await outcome(c, 'CREATE TABLE probe (id int)'),
      createSchema: await outcome(c, 'CREATE SCHEMA probe'),
      alterTable: await outcome(c, 'ALTER TABLE memshop_outbox ADD COLUMN probe int'),
      dropTable: await outcome(c, 'DROP TABLE memshop_outbox'),
      truncate: await outcome(c, 'TRUNCATE memshop_outbox'),
      setval: await outcome(c, `SELECT setval('memshop_outbox_seq_seq', 1)`),
    }));
    expect(results).toEqual({
      createTable: '42501',
      createSchema: '42501',
      alterTable: '42501',
      dropTable: '42501',
      truncate: '42501',
      setval: '42501',
    });
  });

  test("no role of this service may connect to another service's database", async () => {
    for (const other of SERVICES.filter((s) => s !== service)) {
      for (const role of [owner, runtime]) {
        const code = await connectAs(role, names(other).database).then(
          async (c) => {
            await c.end();
            return 'ok';
          },
          (err: { code?: string }) => String(err.code),
        );
        expect({ role, database: names(other).database, code }).toEqual({
          role,
          database: names(other).database,
          code: '42501',
        });
      }
    }
  });
});
