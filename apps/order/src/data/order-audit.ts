import type { AuditSource } from '@memshop/cache';
import type { PrismaClient } from '../prisma/generated/client';
import type { OrderCacheKeys } from './cache-keys';
import type { CatalogClient } from './catalog-client';
import type { UserClient } from './user-client';

/**
 * What the staleness auditor compares order-service's copies with: the owners' current
 * versions, read through their HTTP APIs (order-service has no access to their databases).
 * The ids are the products and users orders refer to, the ones order-service copies. Orders
 * themselves are not audited: they are order-service's own rows, written through on change.
 */
export function orderAuditSources(deps: {
  prisma: PrismaClient;
  keys: OrderCacheKeys;
  catalog: CatalogClient;
  users: UserClient;
}): AuditSource[] {
  const { prisma, keys, catalog, users } = deps;
  return [
    {
      namespace: 'order-product-copy',
      keyOf: (id) => keys.product(id),
      sampleIds: (count) => sampleDistinct(prisma, 'product_id', 'order_items', count),
      loadVersions: async (ids) => {
        const found = await catalog.getProducts(ids.map(Number));
        return versions(found);
      },
    },
    {
      namespace: 'order-user-copy',
      keyOf: (id) => keys.user(id),
      sampleIds: (count) => sampleDistinct(prisma, 'user_id', 'orders', count),
      loadVersions: async (ids) => {
        const found = new Map(
          await Promise.all(ids.map(async (id) => [Number(id), await users.getUser(Number(id))] as const)),
        );
        return versions(found);
      },
    },
  ];
}

async function sampleDistinct(
  prisma: PrismaClient,
  column: string,
  table: string,
  count: number,
): Promise<string[]> {
  const rows = await prisma.$queryRawUnsafe<Array<{ id: string }>>(
    `SELECT "id" FROM (SELECT DISTINCT "${column}"::text AS "id" FROM "${table}") t ORDER BY random() LIMIT $1::int`,
    count,
  );
  return rows.map((r) => r.id);
}

/**
 * An owner that sends no version still has the row: -1 keeps it from counting as an orphan,
 * and a copy without a version is reported as unversioned, not judged.
 */
function versions(found: Map<number, { version?: number } | null>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, value] of found) if (value) out.set(String(id), value.version ?? -1);
  return out;
}
