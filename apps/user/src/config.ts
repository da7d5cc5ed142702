import {
  authEnvShape,
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
  })
  .superRefine(requireOneJwksSource);

export type UserConfig = z.infer<typeof userConfigSchema>;
