import { createPrismaClient } from '@memshop/service-kit';
import { PrismaClient } from './generated/client';

const firstNames = [
  'Ada',
  'Alan',
  'Barbara',
  'Donald',
  'Edsger',
  'Frances',
  'Grace',
  'Ken',
  'Margaret',
  'Radia',
];
const lastNames = [
  'Lovelace',
  'Turing',
  'Liskov',
  'Knuth',
  'Dijkstra',
  'Allen',
  'Hopper',
  'Thompson',
  'Hamilton',
  'Perlman',
];

/** User `id` of the seed, the same on every run. */
export function seedUser(id: number) {
  const first = firstNames[id % firstNames.length]!;
  const last = lastNames[Math.floor(id / firstNames.length) % lastNames.length]!;
  return { id, email: `user${id}@example.com`, name: `${first} ${last}` };
}

/** Idempotent: existing rows are kept; the id sequence is moved past the seeded ids. */
export async function seedUsers(prisma: PrismaClient, opts: { users?: number } = {}): Promise<void> {
  const ids = Array.from({ length: opts.users ?? 100 }, (_, i) => i + 1);
  await prisma.user.createMany({ data: ids.map(seedUser), skipDuplicates: true });
  await prisma.profile.createMany({
    data: ids.map((id) => ({ userId: id, bio: `Seed user number ${id}.`, locale: 'en' })),
    skipDuplicates: true,
  });
  await prisma.$executeRawUnsafe(
    `SELECT setval(pg_get_serial_sequence('"users"', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM "users"), 1))`,
  );
}

if (require.main === module) {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    console.error('seed: DATABASE_URL is required');
    process.exit(2);
  }
  const prisma = createPrismaClient(PrismaClient, { databaseUrl });
  seedUsers(prisma)
    .then(async () => console.log(`seed: user-service has ${await prisma.user.count()} users`))
    .catch((err: unknown) => {
      console.error('seed failed:', err);
      process.exitCode = 1;
    })
    .finally(() => prisma.$disconnect());
}
