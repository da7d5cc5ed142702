import type { AuditSource } from '@memshop/cache';
import type { PrismaClient } from '../prisma/generated/client';
import type { OrderCacheKeys } from './cache-keys';
import type { CatalogClient } from './catalog-client';
import type { UserClient } from './user-client';

/**
 * What the staleness auditor compares order-service's copies with: the owners' current values,
 * read from the owners' databases through their `/admin/source/*` routes (order-service has no
 * access to those databases). Not through the owners' cached reads: an owner entry as stale as
 * the copy would make the copy look fresh, and a missed event usually leaves both behind. Field
 * by field (a copy keeps no version: the owner's version also moves for fields a copy does not
 * keep, a category rename for one). The ids are the products and users orders refer to, the
 * ones order-service copies. Orders themselves are not audited: they are order-service's own rows.
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
      loadValues: async (ids) => present(await catalog.getProductsFromSource(ids.map(Number))),
    },
    {
      namespace: 'order-user-copy',
      keyOf: (id) => keys.user(id),
      sampleIds: (count) => sampleDistinct(prisma, 'user_id', 'orders', count),
      loadValues: async (ids) => present(await users.getUsersFromSource(ids.map(Number))),
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

/** The owners answer null for ids they do not have: those are left out (deleted). */
function present<V>(found: Map<number, V | null>): Map<string, V> {
  const out = new Map<string, V>();
  for (const [id, value] of found) if (value !== null) out.set(String(id), value);
  return out;
}
