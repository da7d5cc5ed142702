import { textSchema, bodyIdSchema, idListSchema } from '@memshop/service-kit';
import { z } from 'zod';

/** `GET /products?ids=` accepts at most this many ids (issue 5: bounded batch size). */
export const MAX_BATCH_IDS = 100;
export const idsQuerySchema = z.object({ ids: idListSchema(MAX_BATCH_IDS) });

export const pageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
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
