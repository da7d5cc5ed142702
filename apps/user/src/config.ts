import {
  authEnvShape,
  keySpaceListEnv,
  requireOneJwksSource,
  serviceJwksEnvShape,
  portSchema,
  serviceEnvShape,
} from '@memshop/service-kit';
import { z } from 'zod';

/** Every env var user-service reads (docs/architecture.md), validated at start. */
export const userConfigSchema = z
  .object({
    ...serviceEnvShape,
    ...authEnvShape,
    ...serviceJwksEnvShape,
    PORT: portSchema(3002),
    /** /metrics and the detailed readiness (service-kit admin-app.ts); never published. */
    ADMIN_PORT: portSchema(9102),
    /**
     * Key spaces in which other services keep copies of users in memcached, keyed by user id
     * (order-service's `order:user:v1`). A user write deletes them once this service's own entry
     * holds the new row, before it answers (DownstreamCopies); the user's event purges them too.
     * Empty: the event alone.
     */
    INVALIDATION_USER_COPIES: keySpaceListEnv('order:user:v1'),
  })
  .superRefine(requireOneJwksSource);

export type UserConfig = z.infer<typeof userConfigSchema>;
