/**
 * A catalog writer that dies between commit and publish: it commits product updates (each with
 * its outbox row, in one transaction, through the catalog's own repository), prints the event
 * ids, and SIGKILLs itself before any relay could publish them. Run as a child process by
 * rabbitmq-outage.test.ts: `node --import tsx commit-then-die.ts` with DATABASE_URL, PRODUCT_IDS.
 */
import { createPrismaClient } from '@memshop/service-kit';
import { CatalogRepository } from '../../../../apps/catalog/src/data/catalog-repository';
import { PrismaClient } from '../../../../apps/catalog/src/prisma/generated/client';

async function main(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'];
  const ids = (process.env['PRODUCT_IDS'] ?? '').split(',').map(Number).filter(Number.isInteger);
  if (!databaseUrl || ids.length === 0) throw new Error('DATABASE_URL and PRODUCT_IDS are required');
  const repository = new CatalogRepository(createPrismaClient(PrismaClient, { databaseUrl }));
  for (const id of ids) {
    const { events } = await repository.updateProduct(id, { priceCents: 4242 + id });
    // stdout to a pipe is synchronous on Linux: the line is out before the kill.
    for (const event of events) process.stdout.write(`${event.id}\n`);
  }
  process.kill(process.pid, 'SIGKILL');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
