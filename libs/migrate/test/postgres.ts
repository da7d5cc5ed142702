import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@memshop/testing';
import { shadowDatabasePrefix } from '../src/pg-adapter';

/** Same server and variable as @memshop/testing's createTestDatabase. */
const ADMIN_URL = process.env['PG_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * The databases of one test file, plus what the tool may have made from them: the shadow
 * databases it names after each of them (`prisma_migrate_shadow_db_<main db>_...`), which
 * cleanup must find to prove none was left behind.
 */
export class TestDatabases {
  readonly #databases: TestDatabase[] = [];

  async create(): Promise<string> {
    const database = await createTestDatabase('mig');
    this.#databases.push(database);
    return database.url;
  }

  /** A fresh database name that does not exist (yet): for deploy to create it. */
  async reserve(): Promise<string> {
    const url = await this.create();
    await this.#databases.at(-1)!.drop();
    return url;
  }

  async query<R extends pg.QueryResultRow>(
    databaseUrl: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Shadow databases made for this file's databases that still exist. */
  async leftoverShadowDatabases(): Promise<string[]> {
    const prefixes = this.#databases.map((database) => shadowDatabasePrefix(database.url));
    if (prefixes.length === 0) return [];
    const rows = await this.query<{ datname: string }>(
      ADMIN_URL,
      'SELECT datname FROM pg_database WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS p WHERE starts_with(datname::text, p))',
      [prefixes],
    );
    return rows.map((row) => row.datname);
  }

  /** Drops every database of this file, shadow ones included; returns the shadow ones it found. */
  async dropAll(): Promise<{ leftoverShadowDatabases: string[] }> {
    try {
      const leftoverShadowDatabases = await this.leftoverShadowDatabases();
      for (const name of leftoverShadowDatabases) {
        await this.query(ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
      return { leftoverShadowDatabases };
    } finally {
      await Promise.allSettled(this.#databases.map((database) => database.drop()));
    }
  }
}
