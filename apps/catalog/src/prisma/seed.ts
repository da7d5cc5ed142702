import { createPrismaClient } from '@memshop/service-kit';
import { PrismaClient } from './generated/client';

export const SEED_CATEGORIES = [
  { id: 1, name: 'Books' },
  { id: 2, name: 'Electronics' },
  { id: 3, name: 'Home & Kitchen' },
  { id: 4, name: 'Garden' },
  { id: 5, name: 'Toys' },
];

const adjectives = [
  'Classic',
  'Compact',
  'Deluxe',
  'Eco',
  'Handmade',
  'Modern',
  'Portable',
  'Rugged',
  'Smart',
  'Vintage',
];
const nouns = [
  'Lamp',
  'Notebook',
  'Speaker',
  'Kettle',
  'Planter',
  'Puzzle',
  'Backpack',
  'Clock',
  'Mug',
  'Chair',
];

/** Product `id` of the seed, the same on every run (tests and the demo rely on the values). */
export function seedProduct(id: number) {
  return {
    id,
    sku: `SKU-${String(id).padStart(5, '0')}`,
    name: `${adjectives[id % adjectives.length]} ${nouns[Math.floor(id / adjectives.length) % nouns.length]} ${id}`,
    description: `Seed product number ${id}.`,
    priceCents: 199 + ((id * 7919) % 20_000),
    currency: 'EUR',
    categoryId: ((id - 1) % SEED_CATEGORIES.length) + 1,
  };
}

export function seedStock(id: number): number {
  return 1000 + (id % 50);
}

/**
 * Idempotent: rows that exist are left alone (a re-run never resets changed prices or stock),
 * then the id sequences are moved past the seeded ids so POST /products gets id 1001 onwards.
 * Seeding writes no outbox events: nothing can have cached rows that did not exist.
 */
export async function seedCatalog(prisma: PrismaClient, opts: { products?: number } = {}): Promise<void> {
  const count = opts.products ?? 1000;
  await prisma.category.createMany({ data: SEED_CATEGORIES, skipDuplicates: true });
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  for (let start = 0; start < ids.length; start += 500) {
    const chunk = ids.slice(start, start + 500);
    await prisma.product.createMany({ data: chunk.map(seedProduct), skipDuplicates: true });
    await prisma.stock.createMany({
      data: chunk.map((id) => ({ productId: id, quantity: seedStock(id) })),
      skipDuplicates: true,
    });
  }
  for (const table of ['categories', 'products']) {
    await prisma.$executeRawUnsafe(
      `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM "${table}"), 1))`,
    );
  }
}

if (require.main === module) {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    console.error('seed: DATABASE_URL is required');
    process.exit(2);
  }
  const prisma = createPrismaClient(PrismaClient, { databaseUrl });
  seedCatalog(prisma)
    .then(async () => {
      const [categories, products] = await Promise.all([prisma.category.count(), prisma.product.count()]);
      console.log(`seed: catalog has ${categories} categories and ${products} products`);
    })
    .catch((err: unknown) => {
      console.error('seed failed:', err);
      process.exitCode = 1;
    })
    .finally(() => prisma.$disconnect());
}
