import type { AuditSource } from '@memshop/cache';
import { sampleRowIds } from '@memshop/service-kit';
import type { PrismaClient } from '../prisma/generated/client';
import type { UserCache } from './user-cache';

/** What the staleness auditor compares cached users with: the row's `version` column. */
export function userAuditSources(prisma: PrismaClient, cache: UserCache): AuditSource[] {
  return [
    {
      namespace: 'user',
      keyOf: (id) => cache.userKey(Number(id)),
      sampleIds: (count) => sampleRowIds(prisma, 'users', count),
      loadVersions: async (ids) => {
        const rows = await prisma.user.findMany({
          where: { id: { in: ids.map(Number) } },
          select: { id: true, version: true },
        });
        return new Map(rows.map((row) => [String(row.id), row.version]));
      },
    },
  ];
}
