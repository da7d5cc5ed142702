import { createPrismaClient } from '@memshop/service-kit';
import { PrismaClient } from './generated/client';

/**
 * order-service's seed is deliberately empty: an order is only real once catalog has taken its
 * stock, so orders are placed through POST /orders (the demo places one), never inserted here.
 * The script exists so every service seeds the same way (`tsx src/prisma/seed.ts`), and it
 * checks that the migrated schema is reachable.
 */
export async function seedOrders(prisma: PrismaClient): Promise<{ orders: number }> {
  return { orders: await prisma.order.count() };
}

if (require.main === module) {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    console.error('DATABASE_URL is required');
    process.exit(2);
  }
  const prisma = createPrismaClient(PrismaClient, { databaseUrl });
  seedOrders(prisma)
    .then(({ orders }) => console.log(`order seed: nothing to insert (${orders} orders placed so far)`))
    .catch((err: unknown) => {
      console.error('order seed failed:', err);
      process.exitCode = 1;
    })
    .finally(() => prisma.$disconnect());
}
