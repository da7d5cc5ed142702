import { z } from 'zod';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalText = z.preprocess(emptyAsUndefined, z.string().min(1).optional());
const requiredText = z.string({ message: 'is required' }).min(1, { message: 'is required' });

/**
 * How every service verifies user and admin tokens (README "Authentication"). A service builds its
 * schema with `z.object({ ...serviceEnvShape, ...authEnvShape }).superRefine(requireOneJwksSource)`.
 */
export const authEnvShape = {
  /** A JWKS json file with the token issuer's public keys (re-read when a token names an unknown kid). */
  AUTH_JWKS_FILE: optionalText,
  /** Or the issuer's JWKS endpoint; https only, so the keys cannot be swapped on the way. */
  AUTH_JWKS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .url({ message: 'must be an https URL' })
      .refine((v) => v.startsWith('https://'), { message: 'must be an https URL' })
      .optional(),
  ),
  AUTH_ISSUER: requiredText,
  /** One audience for the whole system, e.g. "memshop". */
  AUTH_AUDIENCE: requiredText,
  /** Clock skew allowed on exp/nbf/iat between the issuer and this host. */
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
};

/** catalog and user: the public key(s) of order-service, whose service tokens they accept. */
export const serviceJwksEnvShape = { SERVICE_JWKS_FILE: requiredText };

/** order-service: its private key (PKCS8 PEM of a P-256 key, or a private JWK), to sign service tokens. */
export const serviceTokenKeyEnvShape = { SERVICE_TOKEN_KEY_FILE: requiredText };

export interface AuthEnv {
  AUTH_JWKS_FILE?: string;
  AUTH_JWKS_URL?: string;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_CLOCK_TOLERANCE_SECONDS: number;
}

/** Exactly one of AUTH_JWKS_FILE and AUTH_JWKS_URL: two sources of keys would be two truths. */
export function requireOneJwksSource(env: Partial<AuthEnv>, ctx: z.RefinementCtx): void {
  const sources = [env.AUTH_JWKS_FILE, env.AUTH_JWKS_URL].filter((v) => v !== undefined).length;
  if (sources === 1) return;
  ctx.addIssue({
    code: 'custom',
    path: [env.AUTH_JWKS_FILE === undefined ? 'AUTH_JWKS_FILE' : 'AUTH_JWKS_URL'],
    message: 'set exactly one of AUTH_JWKS_FILE and AUTH_JWKS_URL',
  });
}
