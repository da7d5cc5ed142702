import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { cleanupRegistry } from './cleanup';
import { waitFor } from './wait-for';

export interface TestDatabase {
  name: string;
  /** Connection URL for the new database (the admin URL with the database swapped). */
  url: string;
  /**
   * Drops the database, after its clients have finished closing (up to 2 s) and even if some are
   * still connected then; safe to call twice.
   */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

function adminUrl(): string {
  return process.env.PG_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function runAsAdmin(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** How long drop() lets the database's clients finish closing before it terminates them. */
const CLOSING_CLIENTS_GRACE_MS = 2_000;

/**
 * Waits until no backend serves `database`, or the grace has passed. pg-pool's end() resolves
 * before its clients' sockets have closed; a forced drop in that moment terminates them
 * mid-close, and the server's FATAL then reaches an ended pool as an unhandled 'error' that
 * fails whichever test is running. Clients still connected after the grace (a crashed
 * service's, a forgotten pool) are what FORCE is for, so running out of grace is no error.
 */
async function untilClientsLeft(admin: Client, database: string): Promise<void> {
  const noBackends = async () => {
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    return rows[0]?.n === 0;
  };
  await waitFor(noBackends, { timeoutMs: CLOSING_CLIENTS_GRACE_MS, intervalMs: 10 }).catch(() => undefined);
}

/**
 * Creates an empty database named `memshop_test_<prefix>_<random>` on the server at
 * PG_ADMIN_URL. Call drop() in afterAll; a database left behind by a crashed run is dropped
 * when the process exits.
 */
export async function createTestDatabase(prefix = 'db'): Promise<TestDatabase> {
  const admin = adminUrl();
  const safePrefix = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30);
  // Postgres truncates identifiers at 63 bytes; this stays well under it.
  const name = `memshop_test_${safePrefix}_${randomBytes(6).toString('hex')}`;
  await runAsAdmin(admin, `CREATE DATABASE ${quoteIdentifier(name)}`);

  const registry = cleanupRegistry();
  registry.databases.set(name, { adminUrl: admin });
  const url = new URL(admin);
  url.pathname = `/${name}`;

  const drop = async (): Promise<void> => {
    const client = new Client({ connectionString: admin });
    await client.connect();
    try {
      await untilClientsLeft(client, name);
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
    registry.databases.delete(name);
    registry.asyncCleanups.delete(drop);
  };
  registry.asyncCleanups.add(drop);
  return { name, url: url.toString(), drop };
}
