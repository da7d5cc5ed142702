import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from './index';

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({
    connectionString: process.env.PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  });
  await client.connect();
  try {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];

  afterAll(async () => {
    await Promise.all(created.map((db) => db.drop()));
  });

  it('creates a fresh, connectable database with a unique name', async () => {
    const [a, b] = await Promise.all([createTestDatabase('harness'), createTestDatabase('harness')]);
    created.push(a!, b!);
    expect(a!.name).toMatch(/^memshop_test_harness_[0-9a-f]+$/);
    expect(a!.name).not.toBe(b!.name);

    const client = new Client({ connectionString: a!.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(rows[0]!.db).toBe(a!.name);
      const tables = await client.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
      expect(tables.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('drop() removes the database even with a client still connected, and is idempotent', async () => {
    const db = await createTestDatabase('Drop-Me');
    created.push(db);
    expect(db.name).toMatch(/^memshop_test_drop_me_/);
    const client = new Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    expect(await databaseExists(db.name)).toBe(true);

    await db.drop();
    expect(await databaseExists(db.name)).toBe(false);
    await db.drop();
    await client.end().catch(() => undefined);
  });

  it('drop() lets a client that is closing finish, instead of terminating it mid-close', async () => {
    const db = await createTestDatabase('closing');
    created.push(db);
    const client = new Client({ connectionString: db.url });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();

    // The client closes only after drop() has started: what a pool's end() looks like to it.
    const dropped = db.drop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.end();
    await dropped;

    expect(await databaseExists(db.name)).toBe(false);
    expect(errors).toEqual([]);
  });
});
