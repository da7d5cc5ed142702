import { bodyIdSchema, idSchema } from '@memshop/service-kit';
import { z } from 'zod';
import type { OrderView, UserOrders } from '../domain/order-view';

/** Lines per order. An order reads all its products in one batch; 50 keeps that batch small. */
export const MAX_ORDER_LINES = 50;
/** Per line: a shop's sanity limit, and it keeps every total within int4 cents for sane prices. */
export const MAX_LINE_QUANTITY = 1000;

export const placeOrderBodySchema = z
  .object(
    {
      /** Optional: an order is always for the user in the token; a different id here is a 403. */
      userId: bodyIdSchema.optional(),
      items: z
        .array(
          z.object(
            {
              productId: bodyIdSchema,
              quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
            },
            { message: 'must be an object { productId, quantity }' },
          ),
          { message: 'must be an array of { productId, quantity }' },
        )
        .min(1, { message: 'needs at least one item' })
        .max(MAX_ORDER_LINES, { message: `at most ${MAX_ORDER_LINES} items` }),
    },
    { message: 'must be a JSON object { items }' },
  )
  .superRefine((body, ctx) => {
    const seen = new Set<number>();
    body.items.forEach((item, i) => {
      if (seen.has(item.productId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'productId'],
          message: `product ${item.productId} appears more than once (put the total in one line)`,
        });
      }
      seen.add(item.productId);
    });
  });

export const orderIdParamsSchema = z.object({ id: idSchema });

export const userOrdersQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, { message: 'must be an integer 1..100' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100, { message: 'must be an integer 1..100' })
    .optional(),
  before: idSchema.optional(),
});

/**
 * The `Idempotency-Key` header of POST /orders: 1-200 visible ASCII characters (a UUID fits).
 * The same key with the same body answers with the first order; with another body, 422.
 */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, { message: 'must be 1-200 visible ASCII characters' });

// Responses, each checked against the domain type it describes (`satisfies`).

const orderStatusSchema = z.enum(['pending', 'confirmed', 'failed', 'cancelled']).meta({
  description:
    '`pending` while its stock reservation settles (poll GET /orders/{id}), then `confirmed` (stock taken once) or `failed` (stock given back; see `failure`).',
});

const orderFailureSchema = z
  .object({ code: z.string(), message: z.string() })
  .optional()
  .meta({ description: 'Why a `failed` order failed (the error its placement was answered with).' });

const storedOrderSchema = z
  .object({
    id: z.number().int(),
    userId: z.number().int(),
    status: orderStatusSchema,
    currency: z.string(),
    totalCents: z.number().int(),
    createdAt: z.string().meta({ format: 'date-time' }),
    failure: orderFailureSchema,
    items: z.array(
      z.object({
        productId: z.number().int(),
        quantity: z.number().int(),
        unitPriceCents: z.number().int().meta({ description: 'The price when the order was placed.' }),
      }),
    ),
  })
  .meta({ id: 'PlacedOrder' });

export const orderViewSchema = z
  .object({
    id: z.number().int(),
    userId: z.number().int(),
    status: orderStatusSchema,
    currency: z.string(),
    totalCents: z.number().int(),
    createdAt: z.string().meta({ format: 'date-time' }),
    failure: orderFailureSchema,
    user: z
      .object({ id: z.number().int(), name: z.string() })
      .nullable()
      .meta({ description: 'The user as user-service has it now; null once deleted.' }),
    items: z.array(
      z.object({
        productId: z.number().int(),
        quantity: z.number().int(),
        unitPriceCents: z.number().int().meta({ description: 'The price when the order was placed.' }),
        product: z
          .object({
            id: z.number().int(),
            name: z.string(),
            priceCents: z.number().int(),
            currency: z.string(),
          })
          .nullable()
          .meta({ description: 'The product as catalog has it now; null once deleted.' }),
      }),
    ),
  })
  .meta({ id: 'Order' }) satisfies z.ZodType<OrderView>;

export const userOrdersSchema = z
  .object({
    user: z.object({ id: z.number().int(), name: z.string() }),
    orders: z.array(storedOrderSchema),
    nextBefore: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Pass as `before` for the next page; null on the last page.' }),
  })
  .meta({ id: 'UserOrders' }) satisfies z.ZodType<UserOrders>;
