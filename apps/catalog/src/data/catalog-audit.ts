import type { AuditSource } from '@memshop/cache';
import { sampleRowIds } from '@memshop/service-kit';
import type { PrismaClient } from '../prisma/generated/client';
import type { CatalogCache } from './catalog-cache';

/**
 * What the staleness auditor compares the catalog's product entries with: the `version` column,
 * which every change of a product or its stock increments and every cached product records.
 * Category pages are not audited: they live under namespace versions, not row versions.
 */
export function catalogAuditSources(prisma: PrismaClient, cache: CatalogCache): AuditSource[] {
  return [
    {
      namespace: 'product',
      keyOf: (id) => cache.productKey(Number(id)),
      sampleIds: (count) => sampleRowIds(prisma, 'products', count),
      loadVersions: async (ids) => {
        const rows = await prisma.product.findMany({
          where: { id: { in: ids.map(Number) } },
          select: { id: true, version: true },
        });
        return new Map(rows.map((row) => [String(row.id), row.version]));
      },
    },
  ];
}
