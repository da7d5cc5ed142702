import pg from 'pg';
import { MigrateError } from './errors';
import { withDatabase } from './pg-adapter';

const INVALID_CATALOG_NAME = '3D000';

/**
 * `prisma migrate deploy` creates the database when it does not exist yet; so do we, so a fresh
 * Postgres (docker-compose, CI) needs nothing but the server. Returns whether it was created.
 */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  assertPostgresUrl(databaseUrl);
  const probe = new pg.Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) {
      throw new MigrateError(`Cannot connect to the database: ${(error as Error).message}`, { cause: error });
    }
  } finally {
    await probe.end().catch(() => {});
  }
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } catch (error) {
    // Another deploy may have created it between our probe and now: duplicate_database, or a
    // unique_violation on pg_database when both CREATEs ran at once.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end();
  }
  return true;
}

export function assertPostgresUrl(databaseUrl: string): void {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new MigrateError(
      'DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)',
    );
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new MigrateError(`DATABASE_URL must be a postgresql:// URL, got ${url.protocol}//...`);
  }
  if (url.pathname.length <= 1)
    throw new MigrateError('DATABASE_URL names no database (postgresql://.../<database>)');
}
