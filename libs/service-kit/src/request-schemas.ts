import { z } from 'zod';

const MAX_INT4 = 2_147_483_647;

/**
 * A database id from a path or query string: decimal digits only (no `1e3`, `0x10`, ` 7`),
 * 1..2^31-1 so it fits Postgres `integer`. Anything else is a 400 before it reaches a cache
 * key or a query.
 */
export const idSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, { message: 'must be a positive integer id' })
  .transform(Number)
  .refine((n) => n <= MAX_INT4, { message: 'is too large' });

/** A JSON body id (a number, not a string). */
export const bodyIdSchema = z.number().int().min(1).max(MAX_INT4);

/** `?ids=1,2,3` (also `?ids=1&ids=2`): distinct ids in request order, at most `max`. */
export function idListSchema(max: number) {
  return z
    .union([z.string(), z.array(z.string())], { message: 'is required (comma-separated ids)' })
    .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()))
    .pipe(
      z
        .array(idSchema)
        .min(1, { message: 'needs at least one id' })
        .max(max, { message: `at most ${max} ids` }),
    )
    .transform((ids) => [...new Set(ids)]);
}

/**
 * Free text that Postgres can store: `text` columns reject U+0000 (SQLSTATE 22021), so a NUL is a
 * 400 here rather than a failed INSERT. `min` 0 allows empty strings (descriptions, bios).
 */
export function textSchema(opts: { min?: number; max: number; trim?: boolean }) {
  const base = opts.trim === false ? z.string() : z.string().trim();
  return base
    .min(opts.min ?? 0)
    .max(opts.max)
    .refine((v) => !v.includes('\u0000'), { message: 'must not contain NUL characters' });
}
