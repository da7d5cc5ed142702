import { textSchema, bodyIdSchema, idListSchema } from '@memshop/service-kit';
import { z } from 'zod';
import type { Category, CategoryProductsPage, Product, ProductSummary } from '../domain/product';
import type { StockReservation } from '../domain/stock-reservation';

/** `GET /products?ids=` accepts at most this many ids, so one request cannot ask for an unbounded batch. */
export const MAX_BATCH_IDS = 100;
export const idsQuerySchema = z.object({ ids: idListSchema(MAX_BATCH_IDS) });

/**
 * Category pages come in fixed sizes at offsets that are whole pages, up to MAX_PAGE_OFFSET, so
 * the page keys a client can make a service cache are bounded: per category 101 + 51 + 21 + 11
 * = 184 (offsets 0..1000 in steps of 10, 20, 50 and 100), whatever it sends. Any offset x limit
 * would let a client mint millions of keys, each an uncached query. Deeper pages are for search,
 * not for paging a category.
 */
export const PAGE_SIZES = [10, 20, 50, 100] as const;
export const MAX_PAGE_OFFSET = 1000;
export const pageQuerySchema = z
  .object({
    offset: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_PAGE_OFFSET, { message: `must be at most ${MAX_PAGE_OFFSET}` })
      .default(0)
      .meta({ description: `A multiple of limit, at most ${MAX_PAGE_OFFSET}.` }),
    limit: z.coerce
      .number()
      .int()
      .refine((v) => (PAGE_SIZES as readonly number[]).includes(v), {
        message: `must be one of ${PAGE_SIZES.join(', ')}`,
      })
      .default(20)
      .meta({ enum: [...PAGE_SIZES], description: `One of ${PAGE_SIZES.join(', ')}.` }),
  })
  .refine((page) => page.offset % page.limit === 0, {
    message: 'must be a multiple of limit',
    path: ['offset'],
  });

const text = (max: number) => textSchema({ min: 1, max });
const description = textSchema({ max: 2000, trim: false });
const sku = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  message: 'must be 1-64 letters, digits, ".", "_" or "-"',
});
const currency = z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code like EUR' });
const priceCents = z.number().int().min(0).max(100_000_000);
const stock = z.number().int().min(0).max(1_000_000_000);

export const createProductSchema = z.strictObject({
  sku,
  name: text(200),
  description: description.optional(),
  priceCents,
  currency,
  stock,
  categoryId: bodyIdSchema,
});

export const updateProductSchema = z
  .strictObject({
    sku: sku.optional(),
    name: text(200).optional(),
    description: description.optional(),
    priceCents: priceCents.optional(),
    currency: currency.optional(),
    stock: stock.optional(),
    categoryId: bodyIdSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change is required' });

export const updateCategorySchema = z.strictObject({ name: text(100) });

const stockItems = z
  .array(z.strictObject({ productId: bodyIdSchema, quantity: z.number().int().min(1).max(1_000_000) }))
  .min(1)
  .max(MAX_BATCH_IDS);

export const stockItemsSchema = z.strictObject({ items: stockItems });

/** The caller's id for a reservation (order-service sends its order's UUID). */
export const reservationReferenceSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, {
  message: 'must be 1-100 letters, digits, ".", "_", ":" or "-"',
});

/**
 * POST /stock/reservations. With a `reference` (or an Idempotency-Key header) the stock is held
 * as a reservation record that expires unless confirmed; without one it is a plain stock change.
 */
export const reserveStockSchema = z.strictObject({
  items: stockItems,
  reference: reservationReferenceSchema.optional(),
  ttlSeconds: z.number().int().min(1).max(86_400).optional(),
});

/** POST /stock/releases: `{ reference }` releases a reservation, `{ items }` adds stock back. */
export const releaseStockSchema = z
  .strictObject({ items: stockItems.optional(), reference: reservationReferenceSchema.optional() })
  .refine((v) => (v.items === undefined) !== (v.reference === undefined), {
    message: 'give either "reference" (a reservation) or "items", not both',
  });

/** POST /stock/confirmations. */
export const confirmReservationSchema = z.strictObject({ reference: reservationReferenceSchema });

export const reservationParamsSchema = z.object({ reference: reservationReferenceSchema });

// Responses. Each is checked against the domain type it describes (`satisfies`), so the
// document and the code cannot disagree on a field without a type error.

const categoryRef = z.object({ id: z.number().int(), name: z.string() });

export const productSchema = z
  .object({
    id: z.number().int(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    priceCents: z.number().int(),
    currency: z.string(),
    stock: z.number().int(),
    categoryId: z.number().int(),
    category: categoryRef,
    version: z.number().int().meta({ description: 'Increases with every change (write-through CAS).' }),
    updatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Product' }) satisfies z.ZodType<Product>;

export const productBatchSchema = z
  .object({
    products: z.array(productSchema),
    missing: z.array(z.number().int()).meta({ description: 'Requested ids that do not exist.' }),
  })
  .meta({ id: 'ProductBatch' });

export const productSummarySchema = productSchema
  .omit({ stock: true, category: true, description: true })
  .meta({ id: 'ProductSummary' }) satisfies z.ZodType<ProductSummary>;

export const categoryProductsPageSchema = z
  .object({
    category: categoryRef,
    items: z.array(productSummarySchema),
    total: z.number().int(),
    offset: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'CategoryProductsPage' }) satisfies z.ZodType<CategoryProductsPage>;

export const categorySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    version: z.number().int(),
    updatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Category' }) satisfies z.ZodType<Category>;

export const stockResultSchema = z
  .object({
    items: z.array(
      z.object({
        productId: z.number().int(),
        quantity: z.number().int(),
        stock: z.number().int().meta({ description: 'What is left after the change.' }),
        priceCents: z.number().int().meta({ description: 'Read in the transaction that took the stock.' }),
        currency: z.string(),
      }),
    ),
  })
  .meta({ id: 'StockResult' });

export const stockShortagesSchema = z.object({
  shortages: z.array(
    z.object({ productId: z.number().int(), requested: z.number().int(), available: z.number().int() }),
  ),
});

const reservedItemSchema = z.object({
  productId: z.number().int(),
  quantity: z.number().int(),
  priceCents: z.number().int().meta({ description: 'Read in the transaction that took the stock.' }),
  currency: z.string(),
});

export const stockReservationSchema = z
  .object({
    reference: z.string(),
    status: z.enum(['active', 'confirmed', 'released']),
    items: z
      .array(reservedItemSchema)
      .meta({ description: 'Empty for a reference confirmed or released before it was reserved.' }),
    expiresAt: z
      .string()
      .meta({ format: 'date-time', description: 'Released by catalog unless confirmed by then.' }),
  })
  .meta({ id: 'StockReservation' }) satisfies z.ZodType<StockReservation>;

export const reservedStockSchema = stockReservationSchema
  .extend({
    items: z.array(
      reservedItemSchema.extend({ stock: z.number().int().meta({ description: 'What is left now.' }) }),
    ),
  })
  .meta({ id: 'ReservedStock' });
