import { idListSchema, textSchema } from '@memshop/service-kit';
import { z } from 'zod';
import type { User } from '../domain/user';

const email = z.string().trim().max(254).email({ message: 'must be an email address' });
const name = textSchema({ min: 1, max: 200 });
const bio = textSchema({ max: 1000, trim: false });
const locale = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, { message: 'must be a locale like en or de-CH' });

export const createUserSchema = z.strictObject({
  email,
  name,
  bio: bio.optional(),
  locale: locale.optional(),
});

export const updateUserSchema = z
  .strictObject({
    email: email.optional(),
    name: name.optional(),
    bio: bio.optional(),
    locale: locale.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change is required' });

/** The response: checked against the domain type (`satisfies`), so the two cannot disagree. */
export const userSchema = z
  .object({
    id: z.number().int(),
    email: z.string().meta({ format: 'email' }),
    name: z.string(),
    profile: z.object({ bio: z.string(), locale: z.string() }),
    version: z.number().int().meta({ description: 'Increases with every change.' }),
    createdAt: z.string().meta({ format: 'date-time' }),
    updatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'User' }) satisfies z.ZodType<User>;

/** At most this many ids per batch read (the same limit as catalog's). */
export const MAX_BATCH_IDS = 100;
export const idsQuerySchema = z.object({ ids: idListSchema(MAX_BATCH_IDS) });

export const userBatchSchema = z
  .object({
    users: z.array(userSchema),
    missing: z.array(z.number().int()).meta({ description: 'Requested ids that do not exist.' }),
  })
  .meta({ id: 'UserBatch' });
