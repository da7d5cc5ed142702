import type { Prisma } from '../prisma/generated/client';
import type { Product } from '../domain/product';

/** What every product read includes: its category's name and its stock. */
export const productInclude = {
  category: { select: { id: true, name: true } },
  stock: { select: { quantity: true } },
} as const;
export type ProductRow = Prisma.ProductGetPayload<{ include: typeof productInclude }>;

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: row.priceCents,
    currency: row.currency,
    stock: row.stock?.quantity ?? 0,
    categoryId: row.categoryId,
    category: { id: row.category.id, name: row.category.name },
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
  };
}
