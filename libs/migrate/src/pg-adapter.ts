import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * The engine's schema reads select catalog columns of Postgres's internal one-byte `"char"` type
 * (pg_class.relkind, pg_constraint.contype, ...). @prisma/adapter-pg has no column type for OID 18
 * and fails the whole query with UnsupportedNativeDataType. pg returns such values as strings
 * already, so relabelling the field as `text` is all the adapter needs.
 */
function relabelCharFields(result: unknown): void {
  for (const single of Array.isArray(result) ? result : [result]) {
    const fields = (single as pg.QueryResult | undefined)?.fields;
    if (!fields) continue;
    for (const field of fields) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
}

class CharAsTextClient extends pg.Client {
  // pg's overloads (promise, callback, Submittable) are wrapped generically; the adapter and
  // pg-pool use the first two.
  override query(...args: unknown[]): never {
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: Error | null, result: unknown) => {
        if (!error) relabelCharFields(result);
        (last as (error: Error | null, result: unknown) => void)(error, result);
      };
      return (super.query as (...a: unknown[]) => never)(...args);
    }
    const returned = (super.query as (...a: unknown[]) => unknown)(...args);
    if (returned instanceof Promise) {
      return returned.then((result: unknown) => {
        relabelCharFields(result);
        return result;
      }) as never;
    }
    return returned as never;
  }
}

/** A connection string with its database name replaced; every other parameter is kept. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The Postgres schema Prisma's `?schema=` URL parameter selects (default `public`). */
function schemaOf(databaseUrl: string): string | undefined {
  return new URL(databaseUrl).searchParams.get('schema') ?? undefined;
}

/**
 * Prisma's prefix (so a leftover is recognisable), the main database's name (so whoever owns that
 * database can find its leftovers), a random suffix; within Postgres's 63-byte identifier limit.
 */
export function shadowDatabaseName(databaseUrl: string): string {
  return `${shadowDatabasePrefix(databaseUrl)}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** What every shadow database made for this main database starts with. */
export function shadowDatabasePrefix(databaseUrl: string): string {
  const main = decodeURIComponent(new URL(databaseUrl).pathname.slice(1))
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 24);
  return `prisma_migrate_shadow_db_${main}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The adapter factory the wasm schema engine talks to: the main database plus shadow databases
 * for diffing a migrations folder.
 *
 * Shadow databases are not made with `PrismaPg.connectToShadowDb()`: it drops the database while
 * its own pool still holds a connection (so the DROP fails and the database is left behind), and
 * ignores the database name when built from a connection string. Here each shadow database gets
 * a unique name, a pool of its own addressed by that name, and on dispose the pool is closed
 * before `DROP DATABASE ... WITH (FORCE)`. `close()` drops any the engine never disposed of.
 */
export class PgMigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@memshop/migrate';
  readonly #databaseUrl: string;
  readonly #openShadowDatabases = new Set<string>();
  readonly #openAdapters = new Set<SqlDriverAdapter>();

  constructor(databaseUrl: string) {
    this.#databaseUrl = databaseUrl;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.#track(await this.#adapterFor(this.#databaseUrl));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const database = shadowDatabaseName(this.#databaseUrl);
    await this.#admin(`CREATE DATABASE ${quoteIdentifier(database)}`);
    this.#openShadowDatabases.add(database);
    let adapter: SqlDriverAdapter;
    try {
      adapter = await this.#adapterFor(withDatabase(this.#databaseUrl, database));
    } catch (error) {
      await this.#dropShadowDatabase(database);
      throw error;
    }
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      try {
        await dispose();
      } finally {
        await this.#dropShadowDatabase(database);
      }
    };
    return this.#track(adapter);
  }

  /** Closes every pool the engine left open and drops every shadow database still around. */
  async close(): Promise<void> {
    const adapters = [...this.#openAdapters];
    this.#openAdapters.clear();
    await Promise.allSettled(adapters.map((adapter) => adapter.dispose()));
    await Promise.allSettled([...this.#openShadowDatabases].map((name) => this.#dropShadowDatabase(name)));
  }

  #track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    this.#openAdapters.add(adapter);
    const dispose = adapter.dispose.bind(adapter);
    let disposed = false;
    adapter.dispose = async () => {
      this.#openAdapters.delete(adapter);
      if (disposed) return;
      disposed = true;
      await dispose();
    };
    return adapter;
  }

  async #adapterFor(connectionString: string): Promise<SqlDriverAdapter> {
    const schema = schemaOf(connectionString);
    const pool = new pg.Pool({
      connectionString,
      Client: CharAsTextClient,
      // One connection, like Prisma's native engine: `applyMigrations` takes a session-level
      // advisory lock (pg_advisory_lock) so that concurrent deploys queue up; with a larger pool
      // later statements could run on other sessions, outside the lock.
      max: 1,
      // Prisma's `?schema=` puts everything, _prisma_migrations included, in that schema; its
      // native engine does so through the search_path, and the unqualified SQL of migrations
      // needs it too.
      ...(schema ? { options: `-c search_path=${quoteIdentifier(schema)}` } : {}),
    });
    if (schema) {
      await pool
        .query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
        .catch(async (error: unknown) => {
          await pool.end();
          throw error;
        });
    }
    const factory = new PrismaPg(pool, { disposeExternalPool: true, ...(schema ? { schema } : {}) });
    const adapter = await factory.connect();
    // adapter-pg's executeScript splits the script on every `;` (breaking `$$ ... ; ... $$`
    // function bodies and string literals) and runs the pieces on whatever pooled connection is
    // free. The engine applies each migration through it, so send the script whole instead:
    // with no parameters pg uses the simple query protocol, which runs a multi-statement string
    // on one connection as one implicit transaction, as Prisma's native engine does. executeRaw
    // keeps the adapter's error mapping, so the engine still reports Postgres's message.
    adapter.executeScript = async (script: string) => {
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    };
    return adapter;
  }

  async #dropShadowDatabase(database: string): Promise<void> {
    if (!this.#openShadowDatabases.has(database)) return;
    await this.#admin(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`);
    this.#openShadowDatabases.delete(database);
  }

  /** CREATE/DROP DATABASE cannot run inside a transaction or against the database dropped. */
  async #admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.#databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
