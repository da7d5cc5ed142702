import { defineConfig } from 'prisma/config';

// Prisma's env('DATABASE_URL') throws when the variable is unset, and `prisma generate`
// never connects, so generation works with a placeholder.
export default defineConfig({
  schema: 'src/prisma/schema.prisma',
  migrations: { path: 'src/prisma/migrations', seed: 'tsx src/prisma/seed.ts' },
  datasource: { url: process.env['DATABASE_URL'] || 'postgresql://generate:unused@127.0.0.1:5432/unused' },
});
