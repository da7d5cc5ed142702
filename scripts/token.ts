/**
 * `npm run token -- --user <id>` / `npm run token -- --admin`: prints a bearer token that the
 * running `npm run stack` accepts (signed with the development key it made; 15 minutes), and
 * nothing else on stdout, so `$(npm run --silent token -- --user 1)` works in a shell.
 */
import { parseArgs } from 'node:util';
import { readAuthKeys } from '../libs/testing/src';
import { runningStackAuthDir } from './stack';

const USAGE = 'usage: npm run token -- --user <id> | --admin [--user <id>]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { user: { type: 'string' }, admin: { type: 'boolean', default: false } },
    strict: true,
  });
  const id = values.user === undefined ? undefined : Number(values.user);
  if (id !== undefined && !(Number.isSafeInteger(id) && id >= 1 && id <= 2_147_483_647)) {
    throw new Error(`--user must be a user id (a positive integer), got "${values.user}"`);
  }
  if (id === undefined && !values.admin) throw new Error(USAGE);

  const keys = await readAuthKeys(runningStackAuthDir());
  const token = values.admin ? await keys.adminToken(id ?? 1) : await keys.userToken(id!);
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
